import type { RedisOptions } from 'ioredis';
import type { StoreConfig } from '../config/index.js';

/**
 * Connection settings for the store's Redis clients (ioredis), chosen to FAIL FAST: a request must get a 503 within
 * `STORE_TIMEOUT_MS`, never hang on a dead Redis nor queue work for later.
 *
 * - No offline queue: while disconnected, a command is rejected at once instead
 *   of waiting for a reconnect that may never come.
 * - A deadline of `timeoutMs` on every store call (`RedisStore.run`), which
 *   lets a reply that already arrived be read before it gives up: after the
 *   event loop stalled longer than the timeout, Node runs timers before it
 *   reads sockets, and a plain timer would fail a command Redis had answered.
 *   ioredis's own command timeout stays as a backstop, four times as long (it
 *   covers `SUBSCRIBE` and `PING` too).
 * - No retry of a command that was in flight when the connection dropped: the
 *   caller decides, since it cannot know whether it ran.
 * - Reconnect forever, backing off to at most a second, so service comes back
 *   by itself after an outage or a Redis restart.
 *
 * Commands issued in the same tick of the event loop leave in one write
 * (auto-pipelining): under load, concurrent requests share socket writes,
 * which cost more than the commands themselves on small machines.
 */
const CONNECT_TIMEOUT_MS = 1_000;
const MAX_RECONNECT_DELAY_MS = 1_000;

/** Wait before reconnect attempt `attempt` (1, 2, …): 100 ms more each time, capped. */
function reconnectDelayMs(attempt: number): number {
  return Math.min(Math.max(attempt, 1) * 100, MAX_RECONNECT_DELAY_MS);
}

/** ioredis options for the store's command connection (the subscriber is its `duplicate()`). */
export function storeRedisOptions(config: StoreConfig): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: true,
    commandTimeout: config.timeoutMs * 4,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: reconnectDelayMs,
    enableAutoPipelining: true,
  };
}
