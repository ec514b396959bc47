/** The public face of `store/`: what other modules may import (anything else is internal). */
export { storeRedisOptions } from './redis.options.js';
export { StoreUnavailableError } from './store.errors.js';
export { StoreHealthIndicator } from './store.health.js';
export { type CompareAndSetOptions, STORE, type Store } from './store.js';
export { LocalCache } from './local-cache.js';
export { StoreModule } from './store.module.js';
