import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { entityFromRow, type CursorKey } from '../../database/index.js';
import { Session, type SessionKind } from './session.entity.js';

export interface SessionSearch {
  userId?: string;
  kind?: SessionKind;
  createdVia?: string;
  /** Only sessions neither revoked nor expired at `at`. */
  active: boolean;
  at: Date;
  /** The `(created_at, id)` of the last row of the previous page. */
  after: CursorKey | null;
  limit: number;
}

/** A session row with its keyset values as Postgres printed them (no precision lost). */
export interface SessionRow {
  session: Session;
  key: CursorKey;
}

/** What the admin views show of a session: never the device key, never a refresh token. */
const COLUMNS = [
  'id',
  'user_id',
  'kind',
  'created_via',
  'device_id',
  'device_name',
  'device_platform',
  'ip',
  'user_agent',
  'created_at',
  'last_seen_at',
  'revoked_at',
  'revoke_reason',
]
  .map((c) => `s."${c}"`)
  .join(', ');

/**
 * The admin side of the sessions table: keyset pages newest first, on
 * `(created_at DESC, id DESC)` (`IDX_sessions_created_at_id`; with a user,
 * `IDX_sessions_user_id`). Revocations do not go through here: they go through
 * `SessionsService`, so that tokens die at once and sockets are told.
 */
@Injectable()
export class SessionDirectory {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async page(search: SessionSearch): Promise<SessionRow[]> {
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    // A soft-deleted user is gone from the admin API: its sessions too.
    const where: string[] = ['NOT EXISTS (SELECT 1 FROM users d WHERE d.id = s.user_id AND d.deleted_at IS NOT NULL)'];
    if (search.userId) where.push(`s.user_id = ${param(search.userId)}`);
    if (search.kind) where.push(`s.kind = ${param(search.kind)}`);
    if (search.createdVia) where.push(`s.created_via = ${param(search.createdVia)}`);
    if (search.active) {
      const at = param(search.at);
      where.push(`s.revoked_at IS NULL AND s.refresh_expires_at > ${at} AND s.absolute_expires_at > ${at}`);
    }
    if (search.after)
      where.push(`(s.created_at, s.id) < (${param(search.after[0])}::timestamptz, ${param(search.after[1])}::uuid)`);
    const rows = (await this.dataSource.query(
      `SELECT ${COLUMNS}, s.created_at::text AS k1, s.id::text AS k2
         FROM sessions s
        WHERE ${where.join(' AND ')}
        ORDER BY s.created_at DESC, s.id DESC
        LIMIT ${param(search.limit + 1)}`,
      params,
    )) as Array<Record<string, unknown>>;
    const metadata = this.dataSource.getMetadata(Session);
    return rows.map((raw) => ({
      session: entityFromRow<Session>(metadata, raw),
      key: [raw.k1 as string, raw.k2 as string],
    }));
  }

  /** Whether a user exists and is not deleted (a deleted user's routes are 404, as the user itself is). */
  async userExists(userId: string): Promise<boolean> {
    return (
      ((await this.dataSource.query('SELECT 1 FROM users WHERE id = $1 AND deleted_at IS NULL', [userId])) as unknown[])
        .length === 1
    );
  }
}
