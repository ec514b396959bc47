import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../support/fake-clock.js';
import { MemoryStore } from '../../../src/store/memory.store.js';
import { QrEventsHub } from '../../../src/qr-login/qr-events.hub.js';
import type { QrStatus, QrStatusView } from '../../../src/qr-login/qr-session.js';
import { QR_EVENTS_CHANNEL } from '../../../src/qr-login/qr-sessions.store.js';

const ID = 'a'.repeat(43);
const OTHER = 'b'.repeat(43);
const EXPIRES = '2026-01-01T00:02:00.000Z';

const view = (id: string, version: number, status: QrStatus = 'scanned'): QrStatusView => ({
  id,
  status,
  version,
  expiresAt: EXPIRES,
});
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Resolves to 'pending' if `promise` has not settled after the store's deliveries ran. */
async function stateOf<T>(promise: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([promise, settle().then(() => 'pending' as const)]);
}

/** The hub's `listen` as a promise (as a long poll uses it): null on timeout or when `signal` aborts. */
function wait(
  hub: QrEventsHub,
  id: string,
  afterVersion: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<QrStatusView | null> {
  if (signal?.aborted) return Promise.resolve(null);
  return new Promise((resolve) => {
    const onAbort = () => {
      cancel();
      resolve(null);
    };
    const cancel = hub.listen(id, afterVersion, timeoutMs, (event) => {
      signal?.removeEventListener('abort', onAbort);
      resolve(event);
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

describe('QrEventsHub (MemoryStore)', () => {
  let store: MemoryStore;
  let hub: QrEventsHub;
  const publish = (event: QrStatusView | string) =>
    store.publish(QR_EVENTS_CHANNEL, typeof event === 'string' ? event : JSON.stringify(event));

  beforeEach(async () => {
    store = new MemoryStore(new FakeClock());
    hub = new QrEventsHub(store);
    await hub.onModuleInit();
  });

  afterEach(async () => {
    await hub.onApplicationShutdown();
    store.onApplicationShutdown();
  });

  it('resolves a waiter with the first event newer than its version, for its own id', async () => {
    const waiting = wait(hub, ID, 1, 5_000);
    await publish(view(ID, 2));
    await expect(waiting).resolves.toEqual(view(ID, 2));
    expect(hub.waiting).toBe(0);
  });

  it('hands waiters the status view only: the scanner session id used for routing stays inside', async () => {
    const waiting = wait(hub, ID, 1, 5_000);
    await publish(JSON.stringify({ ...view(ID, 2), scannerSessionId: 'phone-session-1' }));
    expect(await waiting).toEqual(view(ID, 2));
  });

  it('gives watchers every event of every session, in order, until they stop watching', async () => {
    const seen: string[] = [];
    const stop = hub.watch((event) => seen.push(`${event.id[0]}${event.version}:${event.scannerSessionId}`));
    const failing = hub.watch(() => {
      throw new Error('a broken watcher');
    });
    await publish(JSON.stringify({ ...view(ID, 2), scannerSessionId: 'p1' }));
    await publish(JSON.stringify({ ...view(OTHER, 5), scannerSessionId: null }));
    await settle();
    stop();
    failing();
    await publish(JSON.stringify({ ...view(ID, 3), scannerSessionId: 'p1' }));
    await settle();
    expect(seen).toEqual(['a2:p1', 'b5:null']);
  });

  it('ignores older and equal versions and other ids', async () => {
    const waiting = wait(hub, ID, 3, 5_000);
    await publish(view(ID, 2));
    await publish(view(ID, 3));
    await publish(view(OTHER, 9));
    await publish('not json');
    await publish(JSON.stringify({ nothing: 'here' }));
    expect(await stateOf(waiting)).toBe('pending');
    expect(hub.waiting).toBe(1);
    await publish(view(ID, 4, 'confirmed'));
    await expect(waiting).resolves.toEqual(view(ID, 4, 'confirmed'));
  });

  it('wakes every waiter whose version the event passes, and only those', async () => {
    const early = wait(hub, ID, 1, 5_000);
    const alsoEarly = wait(hub, ID, 1, 5_000);
    const late = wait(hub, ID, 2, 5_000);
    const other = wait(hub, OTHER, 1, 5_000);
    expect(hub.waiting).toBe(4);
    await publish(view(ID, 2));
    await expect(early).resolves.toEqual(view(ID, 2));
    await expect(alsoEarly).resolves.toEqual(view(ID, 2));
    expect(await stateOf(late)).toBe('pending');
    expect(await stateOf(other)).toBe('pending');
    expect(hub.waiting).toBe(2);
    await publish(view(ID, 3));
    await expect(late).resolves.toEqual(view(ID, 3));
    expect(await stateOf(other)).toBe('pending');
    expect(hub.waiting).toBe(1);
  });

  it('times out with null', async () => {
    const started = performance.now();
    await expect(wait(hub, ID, 1, 40)).resolves.toBeNull();
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
    expect(hub.waiting).toBe(0);
  });

  it('gives up with null when the signal aborts, and drops the waiter', async () => {
    const abort = new AbortController();
    const waiting = wait(hub, ID, 1, 5_000, abort.signal);
    const stays = wait(hub, ID, 1, 5_000);
    expect(hub.waiting).toBe(2);
    abort.abort();
    await expect(waiting).resolves.toBeNull();
    expect(hub.waiting).toBe(1);
    // A late event does not resurrect it, and the other waiter still gets it.
    await publish(view(ID, 2));
    await expect(stays).resolves.toEqual(view(ID, 2));
    expect(hub.waiting).toBe(0);
  });

  it('does not hold a waiter whose signal was already aborted (the client left before the wait began)', async () => {
    const abort = new AbortController();
    abort.abort();
    const waiting = wait(hub, ID, 1, 2_000, abort.signal);
    // An aborted signal never fires 'abort' again: the hub must look at `signal.aborted` itself.
    await expect(
      Promise.race([waiting, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 100))]),
    ).resolves.toBeNull();
    expect(hub.waiting).toBe(0);
  });

  it('counts waiters across ids and drops each one however it ends', async () => {
    expect(hub.waiting).toBe(0);
    const abort = new AbortController();
    const byEvent = wait(hub, ID, 1, 5_000);
    const byTimeout = wait(hub, OTHER, 1, 20);
    const byAbort = wait(hub, OTHER, 1, 5_000, abort.signal);
    expect(hub.waiting).toBe(3);
    await publish(view(ID, 2));
    await byEvent;
    expect(hub.waiting).toBe(2);
    await byTimeout;
    expect(hub.waiting).toBe(1);
    abort.abort();
    await byAbort;
    expect(hub.waiting).toBe(0);
  });

  it('lets a waiter register again on an id whose last waiter just left', async () => {
    await wait(hub, ID, 1, 10);
    const again = wait(hub, ID, 1, 5_000);
    await publish(view(ID, 2));
    await expect(again).resolves.toEqual(view(ID, 2));
  });

  it('releases every waiter with null at shutdown and stops listening', async () => {
    const a = wait(hub, ID, 1, 5_000);
    const b = wait(hub, OTHER, 1, 5_000);
    await hub.onApplicationShutdown();
    await expect(a).resolves.toBeNull();
    await expect(b).resolves.toBeNull();
    expect(hub.waiting).toBe(0);
  });

  it('holds 10,000 waiters and wakes only the one whose session changed', async () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `${String(i).padStart(43, 'x')}`);
    const waits = ids.map((id) => wait(hub, id, 1, 10_000));
    expect(hub.waiting).toBe(10_000);
    await publish(view(ids[1234]!, 2));
    await expect(waits[1234]).resolves.toEqual(view(ids[1234]!, 2));
    expect(hub.waiting).toBe(9_999);
    await hub.onApplicationShutdown();
    expect((await Promise.all(waits)).filter((e) => e !== null)).toHaveLength(1);
  });
});
