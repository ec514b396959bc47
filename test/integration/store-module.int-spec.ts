import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import { ConfigModule } from '../../src/config/config.module.js';
import type { Config } from '../../src/config/config.types.js';
import { LocalCache } from '../../src/store/local-cache.js';
import { MemoryStore } from '../../src/store/memory.store.js';
import { RedisStore } from '../../src/store/redis.store.js';
import { StoreHealthIndicator } from '../../src/store/store.health.js';
import { StoreModule } from '../../src/store/store.module.js';
import { STORE } from '../../src/store/store.js';
import { describeWith } from '../support/services.js';
import { TEST_REDIS_URL, testConfig } from '../support/test-config.js';

/** The real StoreModule in one mode: which store it provides, its health, its local cache. */
function moduleSuite(config: () => Config, store: typeof MemoryStore | typeof RedisStore, mode: string): void {
  let moduleRef: TestingModule;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({ imports: [ConfigModule.forRoot(config()), StoreModule] }).compile();
    await moduleRef.init();
  });

  afterAll(async () => {
    await moduleRef?.close();
  });

  it(`provides the ${store.name} as STORE and reports it up`, async () => {
    expect(moduleRef.get(STORE)).toBeInstanceOf(store);
    expect(await moduleRef.get(StoreHealthIndicator).check()).toEqual({ up: true, mode });
  });

  it('provides one process-local cache, whatever the store', async () => {
    const cache = moduleRef.get(LocalCache);
    expect(cache).toBeInstanceOf(LocalCache);
    expect(await cache.wrap('k', async () => 'v', 1_000)).toBe('v');
  });
}

describe('StoreModule in memory mode (no REDIS_URL)', () => {
  moduleSuite(() => testConfig(), MemoryStore, 'memory');
});

describeWith(TEST_REDIS_URL ? undefined : 'TEST_REDIS_URL is not set', 'StoreModule in Redis mode', () => {
  moduleSuite(() => testConfig({}, { store: true }), RedisStore, 'redis');
});
