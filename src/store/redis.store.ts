import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { StoreConfig } from '../config/index.js';
import { ConnectionMonitor, urlSecrets } from './connection.monitor.js';
import { storeRedisOptions } from './redis.options.js';
import { COMPARE_AND_SET, INCREMENT_IN_WINDOW, TAKE_DUE } from './redis.scripts.js';
import type { CompareAndSetOptions, Store } from './store.js';
import { StoreUnavailableError } from './store.errors.js';
import { durationMs, instantMs, leaseMs, optionalDurationMs, takeLimit } from './store.validation.js';

/** How long `QUIT` may take at shutdown before the socket is simply closed. */
const QUIT_TIMEOUT_MS = 500;

/** One `subscribe()` call (an object of its own, so one handler can be subscribed twice). */
interface Subscription {
  handler: (message: string) => void;
}

/** The local side of one subscribed Redis channel. */
interface Channel {
  subscriptions: Set<Subscription>;
  /** Settles when Redis has acknowledged the `SUBSCRIBE`. */
  active: Promise<void>;
}

/**
 * The `Store` on Redis, shared by every instance. Two connections: commands,
 * and a subscriber (a connection in subscribe mode accepts nothing else).
 * Keys and channels get `keyPrefix`, so several deployments can share a Redis.
 *
 * Fail fast (see `redis.options.ts`): every call either completes or rejects
 * with `StoreUnavailableError` within about `timeoutMs`, including while Redis
 * is down or frozen; the connections keep reconnecting in the background, and
 * ioredis re-subscribes after a reconnect, so subscriptions survive a Redis
 * restart without anyone re-subscribing.
 */
export class RedisStore implements Store, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Store');
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly command: Redis;
  private readonly subscriber: Redis;
  private readonly channels = new Map<string, Channel>();
  private readonly monitors: ConnectionMonitor[];
  private closed = false;

  constructor(config: StoreConfig) {
    if (!config.url) throw new Error('RedisStore needs STORE_CONFIG.url (REDIS_URL)');
    this.prefix = config.keyPrefix;
    this.timeoutMs = config.timeoutMs;
    // lazyConnect: constructing never touches the network; onModuleInit connects.
    this.command = new Redis(config.url, storeRedisOptions(config));
    this.subscriber = this.command.duplicate();
    const secrets = urlSecrets(config.url);
    const consequence = 'store calls fail with store.unavailable meanwhile';
    this.monitors = [
      this.watch(this.command, new ConnectionMonitor(this.logger, 'Redis store connection', consequence, secrets)),
      this.watch(
        this.subscriber,
        new ConnectionMonitor(this.logger, 'Redis subscriber connection', consequence, secrets),
      ),
    ];
    this.subscriber.on('message', (channel: string, message: string) => this.dispatch(channel, message));
  }

  /**
   * Connects both connections. Never throws: with Redis down the application
   * still starts (store calls fail with 503, readiness reports the store down)
   * and the connections keep retrying.
   */
  async onModuleInit(): Promise<void> {
    await Promise.allSettled(
      [this.command, this.subscriber].filter((c) => c.status === 'wait').map((c) => c.connect()),
    );
  }

  /** Closes both connections: `QUIT` if they are up (bounded), then the socket, which stops reconnecting. */
  async onApplicationShutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const monitor of this.monitors) monitor.stop();
    this.channels.clear();
    await Promise.all([this.command, this.subscriber].map((connection) => close(connection)));
  }

  async get(key: string): Promise<string | null> {
    return this.run(() => this.command.get(this.key(key)));
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    const ttl = optionalDurationMs(ttlMs, 'ttlMs');
    const name = this.key(key);
    await this.run(() =>
      ttl === undefined ? this.command.set(name, value) : this.command.set(name, value, 'PX', ttl),
    );
  }

  async delete(key: string): Promise<boolean> {
    return (await this.run(() => this.command.del(this.key(key)))) === 1;
  }

  async take(key: string): Promise<string | null> {
    return this.run(() => this.command.getdel(this.key(key)));
  }

  async compareAndSet(
    key: string,
    expected: string | null,
    next: string,
    options: CompareAndSetOptions = {},
  ): Promise<boolean> {
    const ttl = optionalDurationMs(options.ttlMs, 'ttlMs');
    const { publish } = options;
    const written = await this.run(() =>
      COMPARE_AND_SET.run(
        this.command,
        [this.key(key)],
        [
          expected === null ? '0' : '1',
          expected ?? '',
          next,
          ttl === undefined ? '' : ttl,
          publish ? this.channel(publish.channel) : '',
          publish?.message ?? '',
        ],
      ),
    );
    return written === 1;
  }

  async increment(key: string, windowMs: number): Promise<{ count: number; ttlMs: number }> {
    const window = durationMs(windowMs, 'windowMs');
    const reply = await this.run(() => INCREMENT_IN_WINDOW.run(this.command, [this.key(key)], [window]));
    const [count, ttlMs] = reply as [number, number];
    return { count, ttlMs };
  }

  /** A sorted set scored by due time (`ZADD` adds or moves the member). */
  async schedule(set: string, member: string, dueAtMs: number): Promise<void> {
    const dueAt = instantMs(dueAtMs, 'dueAtMs');
    await this.run(() => this.command.zadd(this.key(set), dueAt, member));
  }

  async unschedule(set: string, member: string): Promise<void> {
    await this.run(() => this.command.zrem(this.key(set), member));
  }

  async takeDue(set: string, nowMs: number, limit: number, lease?: number): Promise<string[]> {
    const now = instantMs(nowMs, 'nowMs');
    const count = takeLimit(limit);
    const until = lease === undefined ? '' : now + leaseMs(lease);
    const reply = await this.run(() => TAKE_DUE.run(this.command, [this.key(set)], [now, count, until]));
    return reply as string[];
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.run(() => this.command.publish(this.channel(channel), message));
  }

  /**
   * One Redis `SUBSCRIBE` per channel, shared by all local handlers; concurrent
   * callers wait for the same acknowledgement. If it fails, every caller gets
   * `StoreUnavailableError` and the next `subscribe()` tries again.
   *
   * The returned function removes the handler at once and never throws; the
   * last handler of a channel also sends `UNSUBSCRIBE`, best effort (if Redis is
   * unreachable, a stray subscription is dropped when its next message arrives).
   */
  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    const name = this.channel(channel);
    let entry = this.channels.get(name);
    if (!entry) {
      const created: Channel = {
        subscriptions: new Set(),
        active: this.run(() => this.subscriber.subscribe(name)).then(() => undefined),
      };
      created.active.catch(() => {
        if (this.channels.get(name) === created) this.channels.delete(name);
      });
      this.channels.set(name, created);
      entry = created;
    }
    const subscription: Subscription = { handler };
    entry.subscriptions.add(subscription);
    try {
      await entry.active;
    } catch (error) {
      entry.subscriptions.delete(subscription);
      throw error;
    }
    const owner = entry;
    return async () => {
      owner.subscriptions.delete(subscription);
      if (owner.subscriptions.size > 0 || this.channels.get(name) !== owner) return;
      this.channels.delete(name);
      await this.unsubscribeQuietly(name);
    };
  }

  /** Round trip on both connections: without the subscriber, events would be lost. */
  async ping(): Promise<void> {
    await this.run(() => Promise.all([this.command.ping(), this.subscriber.ping()]));
  }

  private key(key: string): string {
    return this.prefix + key;
  }

  private channel(channel: string): string {
    return this.prefix + channel;
  }

  /**
   * Runs a Redis call and turns any failure into `StoreUnavailableError` (the
   * original kept as `cause`): closed or refused connections, timeouts, "Stream
   * isn't writeable" while reconnecting, and error replies alike.
   */
  private async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError();
    try {
      return await withDeadline(call(), this.timeoutMs);
    } catch (error) {
      const unavailable = new StoreUnavailableError();
      unavailable.cause = error;
      throw unavailable;
    }
  }

  private dispatch(channel: string, message: string): void {
    const entry = this.channels.get(channel);
    if (!entry) {
      // A subscription left over from an UNSUBSCRIBE that could not be sent
      // (or a SUBSCRIBE that timed out but went through later): drop it now.
      void this.unsubscribeQuietly(channel);
      return;
    }
    for (const subscription of [...entry.subscriptions]) {
      try {
        subscription.handler(message);
      } catch (error) {
        // One failing subscriber must not starve the others (nor crash the process).
        this.logger.error(`A store subscriber failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  private async unsubscribeQuietly(name: string): Promise<void> {
    if (this.closed) return;
    try {
      await this.subscriber.unsubscribe(name);
    } catch {
      // Redis unreachable: the handler is already gone locally; see dispatch().
    }
  }

  /** Logs outages once (never the URL) and keeps ioredis from printing unhandled "error" events. */
  private watch(connection: Redis, monitor: ConnectionMonitor): ConnectionMonitor {
    connection.on('error', (error: unknown) => monitor.failed(error));
    connection.on('close', () => monitor.failed('connection closed'));
    connection.on('ready', () => monitor.ready());
    return monitor;
  }
}

/** `QUIT` (bounded by QUIT_TIMEOUT_MS) when connected, then `disconnect()`, which also stops reconnecting. */
async function close(connection: Redis): Promise<void> {
  if (connection.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, QUIT_TIMEOUT_MS);
    });
    try {
      await Promise.race([connection.quit().then(() => undefined), timeout]);
    } catch {
      // The connection dropped meanwhile: disconnecting is all that is left to do.
    } finally {
      clearTimeout(timer);
    }
  }
  connection.disconnect();
}

/**
 * `pending`, or a rejection after `ms` of time in which this process could
 * have read the reply. When the timer fires it first lets the event loop read
 * the sockets once (`setImmediate` runs after the poll phase): after a stall,
 * the reply may be waiting there already. And a timer that fires late by more
 * than half the timeout means the process itself was stalled (a long task, a
 * GC pause) for much of the wait: the command gets one more `ms`, since Redis
 * may have had no chance to be heard. A command Redis did answer must not be
 * reported as unavailable (its write may have happened).
 */
function withDeadline<T>(pending: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout;
    const arm = (extended: boolean) => {
      const due = performance.now() + ms;
      timer = setTimeout(
        () =>
          setImmediate(() => {
            if (settled) return;
            if (!extended && performance.now() - due > ms / 2) return arm(true);
            settled = true;
            reject(new Error(`Redis did not answer within ${ms} ms`));
          }),
        ms,
      );
    };
    arm(false);
    pending.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
