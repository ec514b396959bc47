import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { freshDatabase } from '../utils/fresh-database.js';
import { deleteKeys } from '../utils/redis-server.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../utils/test-config.js';

/**
 * The services a bench runs on: real Postgres (a fresh database) and Redis (a
 * fresh key prefix) when both TEST_* URLs are set, else the embedded stand-ins.
 */
export async function benchServices(): Promise<{ real: boolean; env: Record<string, string>; cleanup: () => Promise<void> }> {
  if (!TEST_DATABASE_URL || !TEST_REDIS_URL) return { real: false, env: {}, cleanup: async () => undefined };
  const db = await freshDatabase(TEST_DATABASE_URL);
  const prefix = `sgbench-${randomBytes(4).toString('hex')}:`;
  return {
    real: true,
    env: { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, STORE_KEY_PREFIX: prefix },
    cleanup: async () => {
      await db.drop();
      const redis = new Redis(TEST_REDIS_URL!);
      await deleteKeys(redis, prefix);
      redis.disconnect();
    },
  };
}
