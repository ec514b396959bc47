import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** The filters of the list and of the export (everything but `limit` and `cursor`). */
export interface AuditEventsFilter {
  userId?: string;
  type?: string;
  ip?: string;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
}
/** One `audit_events` row as read, with its keyset position. */
export interface AuditEventRow {
  id: string;
  type: string;
  at: Date;
  actor_id: string | null;
  user_id: string | null;
  session_id: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: Record<string, unknown>;
  /** `at` printed by Postgres in UTC with all six fractional digits: the cursor keeps every microsecond. */
  at_key: string;
}

/** A keyset position: the `(at, id)` of the last row read. */
export interface AuditKey {
  at: string;
  id: string;
}

/** The shape of `at_key` (what a cursor must hold). */
export const AT_KEY_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

const COLUMNS = `id, type, at, actor_id, user_id, session_id, ip, user_agent, detail,
  to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at_key`;

/**
 * Reads the audit trail for the admin API, newest first, in keyset pages on
 * `(at DESC, id DESC)`.
 *
 * Index use (migration AdminSearchAndListing): no filter walks `(at, id)`
 * backwards from the position; `type` and `ip` use `(type, at)` / `(ip, at)`;
 * `userId` ("acted upon OR actor") is two ordered branches, `(user_id, at)` and
 * `(actor_id, at)`, each cut at the position and limited, then merged: an `OR`
 * would make Postgres collect and sort every event of a busy user per page.
 * The redundant `at <= position` lets the `(x, at)` indexes bound the range.
 */
@Injectable()
export class AuditEventDirectory {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** At most `limit` rows matching `filter`, strictly after `after` in the order. */
  async page(filter: AuditEventsFilter, after: AuditKey | null, limit: number): Promise<AuditEventRow[]> {
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    const common: string[] = [];
    if (filter.type !== undefined) common.push(`type = ${param(filter.type)}`);
    if (filter.ip !== undefined) {
      // An IPv4 client of a dual-stack listener is recorded as `::ffff:a.b.c.d`: either spelling matches (both use `(ip, at)`).
      const ipv4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(filter.ip);
      common.push(
        ipv4
          ? `ip IN (${param(filter.ip)}, ${param(`::ffff:${filter.ip}`)})`
          : `ip = ${param(filter.ip.toLowerCase())}`,
      );
    }
    if (filter.from !== undefined) common.push(`at >= ${param(filter.from)}::timestamptz`);
    if (filter.to !== undefined) common.push(`at < ${param(filter.to)}::timestamptz`);
    if (after) {
      const at = param(after.at);
      const id = param(after.id);
      common.push(`at <= ${at}::timestamptz`, `(at, id) < (${at}::timestamptz, ${id}::uuid)`);
    }
    const take = param(limit);
    const branch = (own: string[]) => {
      const where = [...own, ...common];
      return `SELECT ${COLUMNS} FROM audit_events WHERE ${where.length > 0 ? where.join(' AND ') : 'TRUE'} ORDER BY at DESC, id DESC LIMIT ${take}`;
    };
    if (filter.userId === undefined) return (await this.dataSource.query(branch([]), params)) as AuditEventRow[];
    const user = param(filter.userId);
    // UNION ALL without duplicates: the actor branch leaves out rows the first branch has.
    const sql = `(${branch([`user_id = ${user}::uuid`])})
      UNION ALL
      (${branch([`actor_id = ${user}::uuid`, `user_id IS DISTINCT FROM ${user}::uuid`])})
      ORDER BY at DESC, id DESC LIMIT ${take}`;
    return (await this.dataSource.query(sql, params)) as AuditEventRow[];
  }
}
