import { Global, Logger, Module } from '@nestjs/common';
import { CacheModule } from '@nestjs/cache-manager';
import { Clock, ClockModule } from '../common/index.js';

import { STORE_CONFIG, type StoreConfig } from '../config/index.js';
import { cacheModuleOptions, localCache } from './cache.options.js';
import { MemoryStore } from './memory.store.js';
import { RedisStore } from './redis.store.js';
import { STORE, type Store } from './store.js';
import { StoreHealthIndicator } from './store.health.js';

/** The process-local read-through cache (see `localCache()`); `CACHE_MANAGER` is the shared one. */
export const LOCAL_CACHE = Symbol('LOCAL_CACHE');

/** Redis when `REDIS_URL` is set, the in-process store otherwise (one instance only). */
export function createStore(config: StoreConfig, clock: Clock): Store {
  return config.mode === 'redis' ? new RedisStore(config) : new MemoryStore(clock);
}

/**
 * Short-lived shared state (`STORE`), its readiness check, and a read-through
 * cache (`CACHE_MANAGER`, `cache.wrap(key, loader, ttlMs)`), both on Redis when
 * configured. Global because nearly every feature module (QR sessions, OAuth
 * state, tickets, rate limits, health) needs the store, as it needs the database.
 * Nest runs the store's `onModuleInit` (connect, without failing start-up) and
 * `onApplicationShutdown` (close the connections, after the HTTP server has
 * finished its in-flight requests) on the factory-made instance.
 */
@Global()
@Module({
  imports: [
    ClockModule,
    CacheModule.registerAsync({
      inject: [STORE_CONFIG],
      useFactory: (config: StoreConfig) => cacheModuleOptions(config, new Logger('Store')),
    }),
  ],
  providers: [
    { provide: STORE, inject: [STORE_CONFIG, Clock], useFactory: createStore },
    { provide: LOCAL_CACHE, useFactory: localCache },
    StoreHealthIndicator,
  ],
  exports: [STORE, LOCAL_CACHE, StoreHealthIndicator, CacheModule],
})
export class StoreModule {}
