import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The admin API's search and lists: soft-deleted users; trigram indexes for
 * the case-insensitive substring search on login, display name and identity
 * subject (pg_trgm, which PGlite also ships); keyset indexes for the lists
 * (newest first, ties broken by id) and the audit filters.
 */
export class AdminSearchAndListing1795750000000 implements MigrationInterface {
  name = 'AdminSearchAndListing1795750000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await queryRunner.query(`ALTER TABLE "users" ADD "deleted_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`CREATE INDEX "IDX_users_created_at_id" ON "users" ("created_at", "id")`);
    await queryRunner.query(`CREATE INDEX "IDX_users_login_trgm" ON "users" USING gin (lower("login") gin_trgm_ops)`);
    await queryRunner.query(
      `CREATE INDEX "IDX_users_display_name_trgm" ON "users" USING gin (lower("display_name") gin_trgm_ops)`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_identities_subject_trgm" ON "identities" USING gin (lower("subject") gin_trgm_ops)`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_sessions_created_at_id" ON "sessions" ("created_at", "id")`);
    await queryRunner.query(`CREATE INDEX "IDX_audit_events_at_id" ON "audit_events" ("at", "id")`);
    await queryRunner.query(`CREATE INDEX "IDX_audit_events_actor_id_at" ON "audit_events" ("actor_id", "at")`);
    await queryRunner.query(`CREATE INDEX "IDX_audit_events_type_at" ON "audit_events" ("type", "at")`);
    await queryRunner.query(`CREATE INDEX "IDX_audit_events_ip_at" ON "audit_events" ("ip", "at")`);
    // The admin QR-session list rebuilds each QR session from its events, by the id they carry.
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_events_qr" ON "audit_events" ((detail->>'qr'), "at") WHERE (detail->>'qr') IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."IDX_audit_events_qr"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_audit_events_ip_at"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_audit_events_type_at"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_audit_events_actor_id_at"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_audit_events_at_id"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_sessions_created_at_id"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_identities_subject_trgm"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_users_display_name_trgm"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_users_login_trgm"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_users_created_at_id"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "deleted_at"`);
  }
}
