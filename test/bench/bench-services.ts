import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createUser, loginMobile, TEST_PASSWORD } from '../support/accounts.js';
import type { TestApp } from '../support/create-test-app.js';
import { Redis } from 'ioredis';
import { freshDatabase } from '../support/fresh-database.js';
import { deleteKeys } from '../support/redis-server.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/test-config.js';

/**
 * The services a bench runs on: real Postgres (a fresh database) and Redis (a
 * fresh key prefix) when both TEST_* URLs are set, else the embedded stand-ins.
 */
export async function benchServices(): Promise<{
  real: boolean;
  env: Record<string, string>;
  cleanup: () => Promise<void>;
}> {
  if (!TEST_DATABASE_URL || !TEST_REDIS_URL) return { real: false, env: {}, cleanup: async () => undefined };
  const db = await freshDatabase(TEST_DATABASE_URL);
  const prefix = `sgbench-${randomBytes(4).toString('hex')}:`;
  return {
    real: true,
    // One sealing secret for the seed app and the server processes on this database.
    env: {
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      STORE_KEY_PREFIX: prefix,
      SIGNING_KEYS_SECRET: randomBytes(32).toString('base64'),
    },
    cleanup: async () => {
      await db.drop();
      const redis = new Redis(TEST_REDIS_URL!);
      await deleteKeys(redis, prefix);
      redis.disconnect();
    },
  };
}

/**
 * A phone signed in on the server at `serverUrl` as a mobile session with a
 * device key: a new user made through `seed` (an app on the same database),
 * or, when the server runs on its own embedded `dataDir`, the demo user it made.
 */
export async function benchPhone(
  seed: TestApp,
  serverUrl: string,
  dataDir: string | undefined,
): Promise<{ accessToken: string; privateKey: KeyObject }> {
  const demo = dataDir
    ? (JSON.parse(readFileSync(join(dataDir, 'demo-user.json'), 'utf8')) as { login: string; password: string })
    : undefined;
  const { login, password } = demo ?? { login: (await createUser(seed)).login, password: TEST_PASSWORD };
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const phone = await loginMobile({ url: serverUrl } as TestApp, login, password, {
    publicKey: publicKey.export({ format: 'jwk' }),
  });
  return { accessToken: phone.accessToken, privateKey };
}
