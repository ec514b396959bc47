import KeyvRedis, { type RedisClientConnectionType } from '@keyv/redis';
import type { KeyvEntry } from 'keyv';

/**
 * `@keyv/redis` with a deadline on every call, for the cache.
 *
 * node-redis's own command timeout only covers the wait before a command is
 * written: once sent, a command to a frozen or overloaded Redis waits for its
 * reply forever, and so would `cache.wrap()`. Here each call settles within
 * `timeoutMs`, as a miss (`get` → undefined, `set` → nothing written), exactly
 * how @keyv/redis reports its other errors without `throwOnErrors`; the cache
 * then calls the loader. The abandoned command settles by itself later (reply
 * or disconnect).
 */
export class FailFastKeyvRedis<T = unknown> extends KeyvRedis<T> {
  constructor(
    client: RedisClientConnectionType,
    private readonly timeoutMs: number,
    options: { namespace: string; keyPrefixSeparator: string },
  ) {
    // Never throw from a cache call: a failure is a miss, and is emitted as "error".
    super(client, { ...options, throwOnConnectError: false, throwOnErrors: false });
  }

  override async get<U = T>(key: string): Promise<U | undefined> {
    return this.within(super.get<U>(key), undefined);
  }

  override async getMany<U = T>(keys: string[]): Promise<Array<U | undefined>> {
    return this.within(
      super.getMany<U>(keys),
      keys.map(() => undefined),
    );
  }

  override async has(key: string): Promise<boolean> {
    return this.within(super.has(key), false);
  }

  override async hasMany(keys: string[]): Promise<boolean[]> {
    return this.within(
      super.hasMany(keys),
      keys.map(() => false),
    );
  }

  override async set(key: string, value: string, ttl?: number): Promise<void> {
    return this.within(super.set(key, value, ttl), undefined);
  }

  override async setMany(entries: KeyvEntry[]): Promise<void> {
    return this.within(super.setMany(entries), undefined);
  }

  override async delete(key: string): Promise<boolean> {
    return this.within(super.delete(key), false);
  }

  override async deleteMany(keys: string[]): Promise<boolean> {
    return this.within(super.deleteMany(keys), false);
  }

  override async clear(): Promise<void> {
    return this.within(super.clear(), undefined);
  }

  /** Closes gracefully (pending replies) if that is quick, else drops the socket; stops reconnecting either way. */
  override async disconnect(force?: boolean): Promise<void> {
    if (!force) await this.within(super.disconnect(), undefined);
    if (this.client.isOpen) await super.disconnect(true);
  }

  private async within<R>(call: Promise<R>, fallback: R): Promise<R> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<R>((resolve) => {
      timer = setTimeout(() => {
        this.emit('error', new Error(`Redis cache call timed out after ${this.timeoutMs} ms`));
        resolve(fallback);
      }, this.timeoutMs);
    });
    call.catch(() => undefined); // if it loses the race and fails later, nobody is waiting
    try {
      return await Promise.race([call, expired]);
    } finally {
      clearTimeout(timer);
    }
  }
}
