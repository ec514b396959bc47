/**
 * The one place for short-lived state shared between instances: Redis when
 * `REDIS_URL` is set (`redis.store.ts`), in-process otherwise (`memory.store.ts`).
 * Both pass the same contract suite (`store.contract.ts`).
 *
 * Keys are given without the configured prefix; implementations add it.
 * Every method fails with `StoreUnavailableError` (`store.unavailable`, 503)
 * within the configured timeout when the backend cannot be reached: never hangs,
 * never queues commands for later.
 */
export interface Store {
  /** The value, or null when absent or expired. */
  get(key: string): Promise<string | null>;

  /** Sets a value, with a time to live in milliseconds (none: kept until deleted). */
  set(key: string, value: string, ttlMs?: number): Promise<void>;

  /** Deletes a key; true when it existed. */
  delete(key: string): Promise<boolean>;

  /** Atomically reads and deletes a key (one-time values such as OAuth `state`). */
  take(key: string): Promise<string | null>;

  /**
   * Atomic compare-and-set: writes `next` only when the current value is exactly
   * `expected` (`null`: only when the key is absent). With `publish`, the event is
   * published by the same atomic step, so it goes out if and only if the write
   * happened. Returns whether the write happened. The basis of every state
   * transition (QR sessions, tickets): never read-then-write.
   *
   * With `ttlMs` the written key expires after it; without, it keeps the time to
   * live it had (none for a key that was absent), so a transition never makes a
   * short-lived session immortal.
   */
  compareAndSet(key: string, expected: string | null, next: string, options?: CompareAndSetOptions): Promise<boolean>;

  /**
   * Adds 1 to a counter and returns the new count. The window starts at the first
   * increment: the counter expires `windowMs` after it, whatever happens later
   * (fixed-window rate limits). `ttlMs` reports the time left in the window.
   */
  increment(key: string, windowMs: number): Promise<{ count: number; ttlMs: number }>;

  /** Sends a message to every subscriber of the channel, on every instance. */
  publish(channel: string, message: string): Promise<void>;

  /**
   * Calls `handler` for each message published on the channel from now on (on any
   * instance). Resolves once the subscription is active; the returned function
   * removes it. Subscriptions survive a reconnect of the backend.
   */
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;

  /**
   * Adds `member` to the due set `set`, due at `dueAtMs` (epoch ms), or moves it
   * there if it is already in the set: a member is in a set at most once. The set
   * never expires. Its name is a key like any other (it gets the key prefix):
   * do not use the same name with the plain-value methods.
   */
  schedule(set: string, member: string, dueAtMs: number): Promise<void>;

  /** Removes `member` from the due set (e.g. when it finished early); absent: nothing happens. */
  unschedule(set: string, member: string): Promise<void>;

  /**
   * Atomically takes up to `limit` (1..1000) members due at or before `nowMs`,
   * earliest first (equal due times in member order). Two callers (on any
   * instances) never get the same member. Without `leaseMs` the members are
   * removed; with it they stay, due again at `nowMs + leaseMs`: a taker that
   * dies before finishing (and `unschedule`-ing) them hands them on to the next
   * caller after the lease instead of losing them. Times are passed in, not
   * read from a clock, so every instance can use its own.
   */
  takeDue(set: string, nowMs: number, limit: number, leaseMs?: number): Promise<string[]>;

  /** Round trip to the backend, for readiness checks. Throws when unreachable. */
  ping(): Promise<void>;
}

export interface CompareAndSetOptions {
  /** New time to live; without it the key keeps the one it had. */
  ttlMs?: number;
  /** An event published by the same atomic step, only when the write happens. */
  publish?: { channel: string; message: string };
}

/** Injection token of the `Store`. */
export const STORE = Symbol('STORE');
