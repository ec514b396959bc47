import type { Logger } from '@nestjs/common';
import type { CacheModuleOptions } from '@nestjs/cache-manager';
import { createCache, type Cache } from 'cache-manager';
import { createClient } from '@keyv/redis';
import { KeyvCacheableMemory } from 'cacheable';
import { Keyv } from 'keyv';
import type { StoreConfig } from '../config/index.js';
import { ConnectionMonitor, urlSecrets } from './connection.monitor.js';
import { FailFastKeyvRedis } from './fail-fast-keyv.adapter.js';
import { CONNECT_TIMEOUT_MS, cacheRedisOptions } from './redis.options.js';

/** Used when `wrap()`/`set()` give no TTL, so no cache entry lives forever. */
export const DEFAULT_CACHE_TTL_MS = 5 * 60_000;
/** Bound of the in-memory cache (least recently used entries go first). */
const MEMORY_CACHE_MAX_ENTRIES = 10_000;

/**
 * Options for `CacheModule` (cache-manager 7 on Keyv): a read-through cache
 * (`cache.wrap(key, loader, ttlMs)`) for data that can be rebuilt, never for
 * state (that is the `Store`'s job).
 *
 * With Redis, the cache shares it under `<keyPrefix>cache:` and degrades to
 * pass-through during an outage: the client rejects commands at once while
 * disconnected (no offline queue), and `FailFastKeyvRedis` bounds every call by
 * `timeoutMs` when Redis is up but not answering; both come back as a miss, so
 * `wrap()` calls the loader instead of failing or hanging. The client connects
 * in the background, so an unreachable Redis at start does not stop the
 * application; cache-manager disconnects it when the module is destroyed.
 */
export async function cacheModuleOptions(config: StoreConfig, logger: Logger): Promise<CacheModuleOptions> {
  const store = config.mode === 'redis' && config.url ? await redisCache(config, logger) : memoryCache();
  return { stores: [store], ttl: DEFAULT_CACHE_TTL_MS };
}

/**
 * The process-local read-through cache (`LOCAL_CACHE`): for data read on hot
 * paths that every instance can rebuild cheaply, such as the public signing keys
 * checked on every request, where a Redis round trip per read would cost more
 * than it saves. (cache-manager does not copy a Redis hit into a memory tier,
 * so a two-tier cache would not help.)
 */
export function localCache(): Cache {
  return createCache({ stores: [memoryCache()], ttl: DEFAULT_CACHE_TTL_MS });
}

function memoryCache(): Keyv {
  // Bounded by the LRU size; expired entries go when read or evicted (no sweep
  // timer, which Keyv could not stop at shutdown).
  return new Keyv({ store: new KeyvCacheableMemory({ lruSize: MEMORY_CACHE_MAX_ENTRIES }) });
}

async function redisCache(config: StoreConfig, logger: Logger): Promise<Keyv> {
  const url = config.url!;
  const client = createClient(cacheRedisOptions(config, url));
  const monitor = new ConnectionMonitor(
    logger,
    'Redis cache connection',
    'cache calls go straight to their loaders meanwhile',
    urlSecrets(url),
  );
  client.on('error', (error: unknown) => monitor.failed(error));
  client.on('ready', () => monitor.ready());
  client.on('end', () => monitor.stop());
  // Connecting goes on in the background (node-redis retries by itself; @keyv/redis
  // does not connect again once the client is open). Start-up waits only for the
  // first outcome, so the first requests are cached when Redis is up, and a
  // refused connection does not delay start-up.
  const outcome = firstOutcome(client);
  client.connect().catch((error: unknown) => monitor.failed(error));
  await outcome;
  const namespace = `${config.keyPrefix}cache`;
  const adapter = new FailFastKeyvRedis(client, config.timeoutMs, { namespace, keyPrefixSeparator: ':' });
  // As @keyv/redis's createKeyv(): the adapter prefixes keys, Keyv must not again.
  return new Keyv({ store: adapter, namespace, useKeyPrefix: false });
}

/** Resolves at the client's first "ready" or "error", or after the connect timeout, whichever comes first. */
function firstOutcome(client: ReturnType<typeof createClient>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      client.off('error', done);
      resolve();
    };
    const timer = setTimeout(done, CONNECT_TIMEOUT_MS);
    client.once('ready', done);
    client.once('error', done);
  });
}
