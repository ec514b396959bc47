import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { CACHE_MANAGER, type Cache } from '@nestjs/cache-manager';
import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { ConfigModule } from '../../src/config/config.module.js';
import type { Config } from '../../src/config/config.types.js';
import { MemoryStore } from '../../src/store/memory.store.js';
import { RedisStore } from '../../src/store/redis.store.js';
import { sleep } from '../../src/store/store.contract.js';
import { StoreHealthIndicator } from '../../src/store/store.health.js';
import { StoreModule } from '../../src/store/store.module.js';
import { STORE } from '../../src/store/store.js';
import { deleteKeys } from '../utils/redis-server.js';
import { describeWith } from '../utils/services.js';
import { TEST_REDIS_URL, testConfig } from '../utils/test-config.js';

/** A loader that counts its calls and returns a new value each time. */
function countingLoader(name: string) {
  const loader = async () => {
    loader.calls += 1;
    return { name, version: loader.calls };
  };
  loader.calls = 0;
  return loader;
}

/**
 * The read-through cache (`CACHE_MANAGER`) through the real StoreModule, in
 * one mode; `extra` adds checks specific to the mode, given the module.
 */
function cacheSuite(config: () => Config, extra: (get: () => TestingModule) => void = () => undefined): void {
  let moduleRef: TestingModule;
  let cache: Cache;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({ imports: [ConfigModule.forRoot(config()), StoreModule] }).compile();
    await moduleRef.init();
    cache = moduleRef.get<Cache>(CACHE_MANAGER);
  });

  afterAll(async () => {
    await moduleRef?.close();
  });

  it('wrap() calls the loader once, then serves the cached value', async () => {
    const load = countingLoader('profile');
    expect(await cache.wrap('wrap-once', load, 60_000)).toEqual({ name: 'profile', version: 1 });
    expect(await cache.wrap('wrap-once', load, 60_000)).toEqual({ name: 'profile', version: 1 });
    expect(load.calls).toBe(1);
  });

  it('wrap() calls the loader again once the TTL has passed', async () => {
    const load = countingLoader('short');
    expect(await cache.wrap('wrap-ttl', load, 100)).toEqual({ name: 'short', version: 1 });
    expect(await cache.wrap('wrap-ttl', load, 100)).toEqual({ name: 'short', version: 1 });
    await sleep(150);
    expect(await cache.wrap('wrap-ttl', load, 100)).toEqual({ name: 'short', version: 2 });
    expect(load.calls).toBe(2);
  });

  it('concurrent wrap() calls of one key share a single loader call', async () => {
    const load = countingLoader('burst');
    const values = await Promise.all(Array.from({ length: 10 }, () => cache.wrap('wrap-burst', load, 60_000)));
    expect(load.calls).toBe(1);
    expect(new Set(values.map((v) => v.version))).toEqual(new Set([1]));
  });

  it('a failing loader caches nothing: the next wrap() loads again', async () => {
    let calls = 0;
    const flaky = async () => {
      calls += 1;
      if (calls === 1) throw new Error('upstream down');
      return 'recovered';
    };
    await expect(cache.wrap('wrap-flaky', flaky, 60_000)).rejects.toThrow('upstream down');
    expect(await cache.wrap('wrap-flaky', flaky, 60_000)).toBe('recovered');
    expect(calls).toBe(2);
  });

  extra(() => moduleRef);
}

describe('StoreModule in memory mode (no REDIS_URL)', () => {
  cacheSuite(
    () => testConfig(),
    (get) => {
      it('provides the MemoryStore as STORE and reports it up', async () => {
        expect(get().get(STORE)).toBeInstanceOf(MemoryStore);
        expect(await get().get(StoreHealthIndicator).check()).toEqual({ up: true, mode: 'memory' });
      });
    },
  );
});

describeWith(TEST_REDIS_URL ? undefined : 'TEST_REDIS_URL is not set', 'StoreModule in Redis mode', () => {
  const prefix = `t${randomBytes(4).toString('hex')}:`;
  let admin: Redis;

  beforeAll(() => {
    admin = new Redis(TEST_REDIS_URL ?? '', { maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    await deleteKeys(admin, prefix);
    await admin.quit();
  });

  cacheSuite(
    () => testConfig({ STORE_KEY_PREFIX: prefix }, { store: true }),
    (get) => {
      it('provides the RedisStore as STORE and reports it up', async () => {
        expect(get().get(STORE)).toBeInstanceOf(RedisStore);
        expect(await get().get(StoreHealthIndicator).check()).toEqual({ up: true, mode: 'redis' });
      });

      it('keeps cache entries in Redis under "<keyPrefix>cache:", with their TTL', async () => {
        const cache = get().get<Cache>(CACHE_MANAGER);
        await cache.wrap('where', async () => 'here', 60_000);
        expect(await admin.exists(`${prefix}cache:where`)).toBe(1);
        const ttl = await admin.pttl(`${prefix}cache:where`);
        expect(ttl).toBeGreaterThan(50_000);
        expect(ttl).toBeLessThanOrEqual(60_000);
      });
    },
  );
});
