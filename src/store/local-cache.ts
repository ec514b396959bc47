import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';

/** Bound of the cache (least recently used entries go first). */
const MAX_ENTRIES = 10_000;

/**
 * The process-local read-through cache, for data read on hot paths that every
 * instance can rebuild cheaply (the public signing keys checked on every
 * request), where a Redis round trip per read would cost more than it saves.
 * Never for state: that is the `Store`'s job. Its only library is lru-cache,
 * as for every other in-process cache here.
 */
@Injectable()
export class LocalCache {
  private readonly entries = new LRUCache<string, { value: unknown }>({ max: MAX_ENTRIES, ttlAutopurge: false });
  private readonly loading = new Map<string, Promise<unknown>>();

  /**
   * The cached value of `key`, or the loader's, kept for `ttlMs`. Concurrent
   * calls for one key share a single loader call; a failing loader caches nothing.
   */
  async wrap<T>(key: string, loader: () => Promise<T>, ttlMs: number): Promise<T> {
    const hit = this.entries.get(key);
    if (hit) return hit.value as T;
    const pending = this.loading.get(key);
    if (pending) return pending as Promise<T>;
    const load = loader().then(
      (value) => {
        // A del() while loading dropped this load: the value may predate the change.
        if (this.loading.get(key) === load) this.entries.set(key, { value }, { ttl: ttlMs });
        return value;
      },
      (error: unknown) => {
        throw error;
      },
    );
    this.loading.set(key, load);
    const forget = () => {
      if (this.loading.get(key) === load) this.loading.delete(key);
    };
    load.then(forget, forget);
    return load;
  }

  /** Drops `key`, and any load of it in flight, so the next read loads again. */
  del(key: string): void {
    this.entries.delete(key);
    this.loading.delete(key);
  }
}
