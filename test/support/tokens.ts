import { Controller, Get } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { SignJWT, type JWTPayload } from 'jose';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { CurrentUser, Public } from '../../src/auth/auth.decorators.js';
import type { Principal } from '../../src/auth/auth.principal.js';
import { SigningKeysService } from '../../src/auth/keys/signing-keys.service.js';
import type { TestApp } from './create-test-app.js';

/**
 * Test-only routes around the global guard: `principal` is authenticated and
 * does nothing but return what the verified token says (no service, no
 * database), `public` is its `@Public()` twin. Register with
 * `createTestApp({ controllers: [GuardProbeController] })`.
 */
@Controller('test-guard')
export class GuardProbeController {
  @Get('principal')
  principal(@CurrentUser() principal: Principal): Principal {
    return principal;
  }

  @Public()
  @Get('public')
  open(): { ok: true } {
    return { ok: true };
  }
}

export const PRINCIPAL_ROUTE = '/test-guard/principal';
export const PUBLIC_ROUTE = '/test-guard/public';

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signature: string;
}

/** The three parts of a compact JWT, unverified. */
export function decodeJwt(token: string): DecodedJwt {
  const [header, payload, signature] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header!, 'base64url').toString('utf8')) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>,
    signature: signature ?? '',
  };
}

/** base64url(JSON) of a header or payload. */
export function segment(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The claims the server puts in an access token, valid now (real time, as jsonwebtoken checks `exp`). */
export function validClaims(issuer: string, base: { sub: string; sid: string }, ttlSeconds = 300): JWTPayload {
  const iat = nowSeconds();
  return {
    iss: issuer,
    aud: 'scangate',
    sub: base.sub,
    sid: base.sid,
    amr: ['pwd'],
    roles: ['user'],
    knd: 'web',
    iat,
    exp: iat + ttlSeconds,
  };
}

/**
 * Signs `claims` with `key` (by default the server's own active signing key,
 * taken from the app: the only way to mint a token with the real key whose
 * claims the test chooses). Nothing is added: claims and header are exactly as given.
 */
export async function mintToken(
  t: TestApp,
  claims: JWTPayload,
  options: { header?: Record<string, unknown>; key?: KeyObject; alg?: string } = {},
): Promise<string> {
  const active = t.app.get(SigningKeysService).signingKey();
  const header = { alg: options.alg ?? 'ES256', typ: 'at+jwt', kid: active.kid, ...options.header };
  // `undefined` in the overrides removes a header field.
  for (const [name, value] of Object.entries(header))
    if (value === undefined) delete (header as Record<string, unknown>)[name];
  return new SignJWT(claims).setProtectedHeader(header as never).sign(options.key ?? active.key);
}

/** A P-256 key pair the server has never seen. */
export function strangerKey(): { privateKey: KeyObject; kid: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, kid: randomBytes(16).toString('base64url') };
}

/** The `kid`s the server's JWKS lists right now. */
export async function jwksKids(t: TestApp): Promise<string[]> {
  const res = await request(t.url).get('/.well-known/jwks.json').expect(200);
  return (res.body.keys as Array<{ kid: string }>).map((k) => k.kid).sort();
}

/**
 * Every SQL statement the app's connection pool sends to Postgres (embedded or
 * real): each pool client is wrapped when it is created or checked out, so no
 * query can reach the server unseen. `take()` returns and clears the log.
 */
export function countQueries(app: INestApplication): { take(): string[]; stop(): void } {
  const pool = (app.get(DataSource).driver as unknown as { master: Pool }).master;
  const seen: string[] = [];
  const wrapped = new WeakSet<PoolClient>();
  let active = true;
  const wrap = (client: PoolClient) => {
    if (wrapped.has(client)) return;
    wrapped.add(client);
    const original = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      if (active) {
        const q = args[0];
        seen.push(typeof q === 'string' ? q : String((q as { text?: string })?.text ?? q));
      }
      return original(...args);
    };
  };
  pool.on('connect', wrap);
  pool.on('acquire', wrap);
  return {
    take: () => seen.splice(0, seen.length),
    stop: () => {
      active = false;
      pool.off('connect', wrap);
      pool.off('acquire', wrap);
    },
  };
}

/** Runs `total` requests, `concurrency` at a time. */
export async function inParallel(total: number, concurrency: number, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await one(next++);
    }),
  );
}
