import { expect } from '@jest/globals';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { DataSource } from 'typeorm';
import type { TestApp } from './create-test-app.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './test-config.js';

/** Why a real-services suite cannot run here, or undefined when it can. */
export const REAL_SERVICES_NEED =
  TEST_DATABASE_URL && TEST_REDIS_URL ? undefined : 'TEST_DATABASE_URL and TEST_REDIS_URL are not both set';

/** A store key prefix of its own, so suites sharing one Redis never see each other's counters or revocations. */
export const uniquePrefix = (name: string) => `t${randomBytes(4).toString('hex')}-${name}:`;

/** Limits no test reaches (the default 10 logins per account and IP per 15 minutes would). */
export const NO_LOGIN_LIMITS = {
  LOGIN_LIMIT_PER_IP: '100000',
  LOGIN_LIMIT_PER_ACCOUNT_IP: '10000',
  LOGIN_LIMIT_PER_ACCOUNT: '10000',
} as const;

export const db = (t: TestApp) => t.app.get(DataSource);

/** Asserts the error envelope: status, code, and a request id matching the header. */
export function expectError(res: Response, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  expect(res.body.requestId).toBe(res.headers['x-request-id']);
  expect(typeof res.body.message).toBe('string');
}

/** The `sg_refresh` Set-Cookie line of a response, if any. */
export function refreshSetCookie(res: Response): string | undefined {
  return ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('sg_refresh='));
}

/** `sg_refresh=<token>` from a Set-Cookie line (what a browser sends back). */
export const cookiePair = (setCookie: string) => setCookie.split(';')[0]!;
export const cookieToken = (setCookie: string) => decodeURIComponent(cookiePair(setCookie).slice('sg_refresh='.length));

/** A fresh EC P-256 public JWK, as node exports it. */
export function p256PublicJwk(): { kty: string; crv: string; x: string; y: string } {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return publicKey.export({ format: 'jwk' }) as { kty: string; crv: string; x: string; y: string };
}

/** A fresh EC P-256 key pair's private JWK (with `d`). */
export function p256PrivateJwk(): Record<string, string> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ format: 'jwk' }) as Record<string, string>;
}

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

export interface AuditRow {
  id: string;
  type: string;
  actor_id: string | null;
  user_id: string | null;
  session_id: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: Record<string, unknown>;
}

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

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
