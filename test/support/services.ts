import { describe, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { freshDatabase } from './fresh-database.js';
import { deleteKeys } from './redis-server.js';
import { IN_CI, TEST_DATABASE_URL, TEST_REDIS_URL } from './test-config.js';

/**
 * `describe` for a suite that needs something the machine may lack (a real
 * Redis or Postgres, a redis-server binary, Chromium). Without it the suite is
 * skipped with the reason printed; with CI=true a skip is a failure instead,
 * so CI cannot go green without proving the real path.
 */
export function describeWith(need: string | undefined, name: string, body: () => void): void {
  if (need === undefined) {
    describe(name, body);
    return;
  }
  if (IN_CI) {
    describe(name, () => {
      test(`requires ${need}`, () => {
        throw new Error(`CI=true but ${need}: this suite cannot be skipped in CI`);
      });
    });
    return;
  }
  // Straight to stderr: one line, without Jest's console decoration.
  process.stderr.write(`[skipped] ${name}: ${need}\n`);
  describe.skip(name, body);
}

/** A store key prefix of its own, so suites sharing one Redis never see each other's counters or revocations. */
export const uniquePrefix = (name: string) => `t${randomBytes(4).toString('hex')}-${name}:`;

/** Why a suite cannot run on the real services here, or undefined when it can. */
export const REAL_SERVICES_NEED =
  TEST_DATABASE_URL && TEST_REDIS_URL ? undefined : 'TEST_DATABASE_URL and TEST_REDIS_URL are not set';

/**
 * A fresh database on the real Postgres and a fresh key prefix (`<prefix><random>:`)
 * on the real Redis, as environment variables; `dispose` drops the database and the keys.
 */
export async function realBackend(prefix: string): Promise<{
  env: { DATABASE_URL: string; REDIS_URL: string; STORE_KEY_PREFIX: string; SIGNING_KEYS_SECRET: string };
  dispose(): Promise<void>;
}> {
  const db = await freshDatabase(TEST_DATABASE_URL!);
  const keyPrefix = `${prefix}${randomBytes(4).toString('hex')}:`;
  return {
    // One sealing secret for every app and server process on this database (as in production).
    env: {
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL!,
      STORE_KEY_PREFIX: keyPrefix,
      SIGNING_KEYS_SECRET: randomBytes(32).toString('base64'),
    },
    dispose: async () => {
      await db.drop();
      const redis = new Redis(TEST_REDIS_URL!);
      try {
        await deleteKeys(redis, keyPrefix);
      } finally {
        redis.disconnect();
      }
    },
  };
}

/**
 * A backend a suite runs on: its environment, how to drop what it made, and
 * `database` for createTestApp (`embedded`: PGlite even where a real Postgres is configured).
 */
export type Backend = () => Promise<{
  env: Record<string, string>;
  database: 'embedded' | 'any';
  dispose(): Promise<void>;
}>;

/**
 * The backends of suites that run on both: the embedded defaults, and real
 * Postgres (a fresh database) and Redis (a fresh key prefix) when configured.
 * Each entry: name, why it cannot run here (undefined: it can), the backend.
 * For `describe.each(backends('qr'))(…, (name, need, backend) => describeWith(need, …))`.
 */
export function backends(prefix: string): Array<[string, string | undefined, Backend]> {
  return [
    ['embedded', undefined, async () => ({ env: {}, database: 'embedded', dispose: async () => undefined })],
    ['real Postgres and Redis', REAL_SERVICES_NEED, async () => ({ ...(await realBackend(prefix)), database: 'any' })],
  ];
}
