import { Global, Module } from '@nestjs/common';
import { Clock, ClockModule } from '../common/index.js';

import { STORE_CONFIG, type StoreConfig } from '../config/index.js';
import { LocalCache } from './local-cache.js';
import { MemoryStore } from './memory.store.js';
import { RedisStore } from './redis.store.js';
import { STORE, type Store } from './store.js';
import { StoreHealthIndicator } from './store.health.js';

/** Redis when `REDIS_URL` is set, the in-process store otherwise (one instance only). */
function createStore(config: StoreConfig, clock: Clock): Store {
  return config.mode === 'redis' ? new RedisStore(config) : new MemoryStore(clock);
}

/**
 * Short-lived shared state (`STORE`, on Redis when configured), its readiness
 * check, and the process-local read-through cache (`LocalCache`). Global
 * because nearly every feature module (QR sessions, OAuth state, tickets, rate
 * limits, health) needs the store, as it needs the database. Nest runs the
 * store's `onModuleInit` (connect, without failing start-up) and
 * `onApplicationShutdown` (close the connections, after the HTTP server has
 * finished its in-flight requests) on the factory-made instance.
 */
@Global()
@Module({
  imports: [ClockModule],
  providers: [
    { provide: STORE, inject: [STORE_CONFIG, Clock], useFactory: createStore },
    LocalCache,
    StoreHealthIndicator,
  ],
  exports: [STORE, LocalCache, StoreHealthIndicator],
})
export class StoreModule {}
