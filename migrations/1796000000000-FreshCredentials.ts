import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fresh credentials (security review, finding 1): a session's
 * `authenticated_at` is the last time it proved a credential of the account
 * itself (a password, or re-proof through an identity already linked), so a
 * session made by QR or a provider alone has none (NULL) until it re-proves.
 * `users.password_changed_at` dates the password, so that a password change
 * can list the identities linked since the previous one.
 */
export class FreshCredentials1796000000000 implements MigrationInterface {
  name = 'FreshCredentials1796000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" ALTER COLUMN "authenticated_at" DROP NOT NULL`);
    await queryRunner.query(`ALTER TABLE "users" ADD "password_changed_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(
      `UPDATE "users" SET "password_changed_at" = "created_at" WHERE "password_hash" IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "password_changed_at"`);
    await queryRunner.query(`UPDATE "sessions" SET "authenticated_at" = "created_at" WHERE "authenticated_at" IS NULL`);
    await queryRunner.query(`ALTER TABLE "sessions" ALTER COLUMN "authenticated_at" SET NOT NULL`);
  }
}
