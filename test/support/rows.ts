import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { AuditEventRow } from '../../src/audit/audit-event.directory.js';
import type { TestApp } from './create-test-app.js';

/**
 * Rows read or written straight in the app's database, for what the API does
 * not show (audit rows, a session's columns) or to set up what it cannot make.
 */
export const db = (t: TestApp) => t.app.get(DataSource);

/** Inserts an identity straight into the table; returns its id. */
export async function insertIdentity(
  t: TestApp,
  userId: string,
  provider = 'wechat',
  subject = `sub-${randomBytes(6).toString('hex')}`,
): Promise<string> {
  const rows = (await db(t).query(
    `INSERT INTO identities (user_id, provider, subject, subject_kind) VALUES ($1, $2, $3, 'unionid') RETURNING id`,
    [userId, provider, subject],
  )) as Array<{ id: string }>;
  return rows[0]!.id;
}

/** An `audit_events` row as `SELECT *` reads it (the directory's row, without its cursor column). */
export type AuditRow = Omit<AuditEventRow, 'at_key'>;

export async function auditRows(t: TestApp, where = 'TRUE', params: unknown[] = []): Promise<AuditRow[]> {
  return (await db(t).query(`SELECT * FROM audit_events WHERE ${where} ORDER BY at`, params)) as AuditRow[];
}

/** Every audit row, every column, as one text per row (to search for secrets). */
export async function auditTexts(t: TestApp): Promise<string[]> {
  const rows = (await db(t).query(`SELECT row_to_json(a)::text AS text FROM audit_events a`)) as Array<{
    text: string;
  }>;
  return rows.map((r) => r.text);
}

export async function sessionRow(t: TestApp, sessionId: string): Promise<Record<string, unknown> | undefined> {
  const rows = (await db(t).query(`SELECT * FROM sessions WHERE id = $1`, [sessionId])) as Array<
    Record<string, unknown>
  >;
  return rows[0];
}
