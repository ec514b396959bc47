import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { StoreConfig } from '../../src/config/config.types.js';
import { RedisStore } from '../../src/store/redis.store.js';
import { runStoreContract, waitFor } from '../contracts/store.contract.js';
import { deleteKeys } from '../support/redis-server.js';
import { describeWith } from '../support/services.js';
import { TEST_REDIS_URL } from '../support/test-config.js';

/** Keys of this run: `t<random>:<n>:…`, deleted again after each store. */
const RUN_PREFIX = `t${randomBytes(4).toString('hex')}`;
let storeCount = 0;

function redisConfig(url: string): StoreConfig {
  return { mode: 'redis', url, timeoutMs: 500, keyPrefix: `${RUN_PREFIX}:${++storeCount}:` };
}

describeWith(TEST_REDIS_URL ? undefined : 'TEST_REDIS_URL is not set', 'RedisStore on a real Redis', () => {
  const url = TEST_REDIS_URL ?? '';
  let admin: Redis;

  beforeAll(() => {
    admin = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    await deleteKeys(admin, RUN_PREFIX);
    await admin.quit();
  });

  runStoreContract('RedisStore', async () => {
    const config = redisConfig(url);
    const store = new RedisStore(config);
    await store.onModuleInit();
    return {
      store,
      clock: null,
      close: async () => {
        await store.onApplicationShutdown();
        await deleteKeys(admin, config.keyPrefix);
      },
    };
  });

  it('does not report a reply that came during an event-loop stall longer than the timeout as unavailable (the write happened)', async () => {
    const config = redisConfig(url);
    const store = new RedisStore(config);
    try {
      await store.onModuleInit();
      let proven = false;
      for (let attempt = 0; attempt < 5 && !proven; attempt++) {
        let answered = false;
        const written = store.compareAndSet(`stalled${attempt}`, null, 'written');
        void written.then(
          () => (answered = true),
          () => undefined,
        );
        // Let the command go out, then stall the event loop (a long synchronous task) for three timeouts while Redis answers.
        await new Promise((resolve) => setImmediate(resolve));
        proven = !answered; // (if the answer was already read, this attempt proves nothing: try again)
        const until = Date.now() + config.timeoutMs * 3;
        while (Date.now() < until) {
          // busy
        }
        await expect(written).resolves.toBe(true);
        expect(await admin.get(`${config.keyPrefix}stalled${attempt}`)).toBe('written');
      }
      expect(proven).toBe(true);
    } finally {
      await store.onApplicationShutdown();
      await deleteKeys(admin, config.keyPrefix);
    }
  });

  it('stores keys (due sets too, without expiry) and publishes on channels under the configured prefix', async () => {
    const config = redisConfig(url);
    const store = new RedisStore(config);
    const watcher = admin.duplicate();
    try {
      await store.onModuleInit();
      await store.set('k', 'v');
      expect(await admin.get(`${config.keyPrefix}k`)).toBe('v');
      expect(await admin.exists('k')).toBe(0);

      const seen: string[] = [];
      watcher.on('message', (channel: string, message: string) => seen.push(`${channel}=${message}`));
      await watcher.subscribe(`${config.keyPrefix}ch`);
      await store.publish('ch', 'hello');
      await store.compareAndSet('k', 'v', 'w', { publish: { channel: 'ch', message: 'moved' } });
      await waitFor(() => seen.length === 2, 'both messages on the prefixed channel');
      expect(seen).toEqual([`${config.keyPrefix}ch=hello`, `${config.keyPrefix}ch=moved`]);

      await store.schedule('due', 'm', 1_234);
      expect(await admin.zscore(`${config.keyPrefix}due`, 'm')).toBe('1234');
      expect(await admin.exists('due')).toBe(0);
      expect(await admin.pttl(`${config.keyPrefix}due`)).toBe(-1);
    } finally {
      watcher.disconnect();
      await store.onApplicationShutdown();
      await deleteKeys(admin, config.keyPrefix);
    }
  });
});
