import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Clock } from '../common/index.js';
import type { CompareAndSetOptions, Store } from './store.js';
import { StoreUnavailableError } from './store.errors.js';
import { durationMs, instantMs, leaseMs, optionalDurationMs, takeLimit } from './store.validation.js';

interface Entry {
  value: string;
  /** Clock time (ms) from which the entry no longer exists; null: never expires. */
  expiresAt: number | null;
}

/** One `subscribe()` call: an object of its own, so the same handler can be subscribed twice and removed once. */
interface Subscription {
  handler: (message: string) => void;
}

export interface MemoryStoreOptions {
  /** How often expired entries nobody reads again are dropped. Default one minute. */
  sweepIntervalMs?: number;
}

/**
 * The in-process `Store` for a single instance (no `REDIS_URL`). It keeps the
 * Redis store's guarantees by construction: JavaScript runs one callback at a
 * time, so every method does its whole check-and-write synchronously, before
 * its first (and only) implicit `await`, and nothing can interleave. Time comes
 * from the injected `Clock`, so tests move TTLs without waiting.
 *
 * Messages are delivered on a later microtask, in publish order, as Redis would
 * deliver them over the network: a publisher never runs subscriber code inside
 * its own call (and its own state change).
 */
export class MemoryStore implements Store, OnApplicationShutdown {
  private readonly logger = new Logger('Store');
  private readonly entries = new Map<string, Entry>();
  private readonly channels = new Map<string, Set<Subscription>>();
  /** Due sets: member → due time (epoch ms). Kept apart from `entries`, never expired. */
  private readonly dueSets = new Map<string, Map<string, number>>();
  /** Expiry is lazy (on read); the sweep bounds memory for keys nobody reads again. */
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly clock: Clock,
    options: MemoryStoreOptions = {},
  ) {
    this.sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 60_000);
    this.sweeper.unref();
  }

  /** Entries held, including expired ones not swept yet (diagnostics, tests). */
  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<string | null> {
    this.assertOpen();
    return this.live(key)?.value ?? null;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.assertOpen();
    const ttl = optionalDurationMs(ttlMs, 'ttlMs');
    this.entries.set(key, { value, expiresAt: ttl === undefined ? null : this.clock.now() + ttl });
  }

  async delete(key: string): Promise<boolean> {
    this.assertOpen();
    const existed = this.live(key) !== undefined;
    this.entries.delete(key);
    return existed;
  }

  async take(key: string): Promise<string | null> {
    this.assertOpen();
    const entry = this.live(key);
    this.entries.delete(key);
    return entry?.value ?? null;
  }

  async compareAndSet(
    key: string,
    expected: string | null,
    next: string,
    options: CompareAndSetOptions = {},
  ): Promise<boolean> {
    this.assertOpen();
    const ttl = optionalDurationMs(options.ttlMs, 'ttlMs');
    const current = this.live(key);
    const matches = expected === null ? current === undefined : current?.value === expected;
    if (!matches) return false;
    // Without a new TTL the key keeps the one it had (Redis `SET … KEEPTTL`).
    const expiresAt = ttl === undefined ? (current?.expiresAt ?? null) : this.clock.now() + ttl;
    this.entries.set(key, { value: next, expiresAt });
    if (options.publish) this.deliverLater(options.publish.channel, options.publish.message);
    return true;
  }

  async increment(key: string, windowMs: number): Promise<{ count: number; ttlMs: number }> {
    this.assertOpen();
    const window = durationMs(windowMs, 'windowMs');
    const now = this.clock.now();
    const current = this.live(key);
    const count = current === undefined ? 1 : counterValue(current.value) + 1;
    // The window starts at the first increment and is never extended; a counter
    // without expiry (written by `set()`) gets one rather than counting forever.
    const expiresAt = current?.expiresAt ?? now + window;
    this.entries.set(key, { value: String(count), expiresAt });
    return { count, ttlMs: expiresAt - now };
  }

  async schedule(set: string, member: string, dueAtMs: number): Promise<void> {
    this.assertOpen();
    const dueAt = instantMs(dueAtMs, 'dueAtMs');
    let members = this.dueSets.get(set);
    if (!members) {
      members = new Map();
      this.dueSets.set(set, members);
    }
    members.set(member, dueAt);
  }

  async unschedule(set: string, member: string): Promise<void> {
    this.assertOpen();
    const members = this.dueSets.get(set);
    if (!members) return;
    members.delete(member);
    if (members.size === 0) this.dueSets.delete(set);
  }

  /**
   * Finds and removes (or leases) the due members in one synchronous step, so
   * concurrent callers never share a member. Order as Redis `ZRANGEBYSCORE`:
   * by due time, equal times by member bytes.
   */
  async takeDue(set: string, nowMs: number, limit: number, lease?: number): Promise<string[]> {
    this.assertOpen();
    const now = instantMs(nowMs, 'nowMs');
    const count = takeLimit(limit);
    const until = lease === undefined ? undefined : now + leaseMs(lease);
    const members = this.dueSets.get(set);
    if (!members) return [];
    const due: Array<[string, number]> = [];
    for (const [member, dueAt] of members) if (dueAt <= now) due.push([member, dueAt]);
    due.sort(([a, aDue], [b, bDue]) => aDue - bDue || Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const taken = due.slice(0, count).map(([member]) => member);
    for (const member of taken) {
      if (until === undefined) members.delete(member);
      else members.set(member, until);
    }
    if (members.size === 0) this.dueSets.delete(set);
    return taken;
  }

  async publish(channel: string, message: string): Promise<void> {
    this.assertOpen();
    this.deliverLater(channel, message);
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    this.assertOpen();
    let subscriptions = this.channels.get(channel);
    if (!subscriptions) {
      subscriptions = new Set();
      this.channels.set(channel, subscriptions);
    }
    const subscription: Subscription = { handler };
    subscriptions.add(subscription);
    const owner = subscriptions;
    return async () => {
      owner.delete(subscription);
      if (owner.size === 0 && this.channels.get(channel) === owner) this.channels.delete(channel);
    };
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  /** Stops the sweep; later calls fail like those of a closed Redis store. */
  onApplicationShutdown(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    this.channels.clear();
    this.entries.clear();
    this.dueSets.clear();
  }

  /** The entry if it exists and has not expired; an expired one is dropped on the way. */
  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== null && entry.expiresAt <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /**
   * Queues delivery to the channel's current subscribers. Microtasks run in the
   * order they were queued, so messages arrive in publish order; a subscriber
   * removed before delivery no longer gets the message, as with Redis.
   */
  private deliverLater(channel: string, message: string): void {
    const subscriptions = this.channels.get(channel);
    if (!subscriptions) return;
    const targets = [...subscriptions];
    queueMicrotask(() => {
      for (const subscription of targets) {
        if (subscriptions.has(subscription)) this.deliver(subscription, message);
      }
    });
  }

  private deliver(subscription: Subscription, message: string): void {
    try {
      subscription.handler(message);
    } catch (error) {
      // One failing subscriber must not starve the others (nor crash the process).
      this.logger.error(`A store subscriber failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt !== null && entry.expiresAt <= now) this.entries.delete(key);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError();
  }
}

/** The count held by a key, as Redis `INCR` reads it. */
function counterValue(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new TypeError('The key does not hold an integer counter');
  return Number(value);
}
