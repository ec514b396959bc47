import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { Store } from '../../src/store/store.js';
import { StoreUnavailableError } from '../../src/store/store.errors.js';

/**
 * The behaviour every `Store` must have, run against each implementation
 * (`memory.store.spec.ts`, `test/integration/store.int-spec.ts`), so the
 * in-process store cannot drift from Redis.
 */

/**
 * A clock the test moves by hand (`test/support/fake-clock.ts`'s FakeClock), typed
 * by shape so this file, which sits in src/, does not pull test code into the build.
 */
interface ManualClock {
  now(): number;
  advance(ms: number): void;
}

export interface StoreUnderTest {
  store: Store;
  /** A fake clock moves TTLs instantly (memory store); null: real time, short real waits (Redis). */
  clock?: ManualClock | null;
  /** Removes what the store wrote and closes it. Called more than once at most harmlessly. */
  close(): Promise<void>;
}

/**
 * `makeStore` must return a fresh, empty store each time; two stores from it
 * share the backend (the same Redis) but not a key prefix, so they must not
 * see each other's keys or channels.
 */
export function runStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`${name} honours the Store contract`, () => {
    let current: StoreUnderTest;
    let store: Store;
    let extra: StoreUnderTest[] = [];

    beforeEach(async () => {
      current = await makeStore();
      store = current.store;
    });

    afterEach(async () => {
      for (const opened of [current, ...extra]) await opened.close();
      extra = [];
    });

    /** A second store on the same backend with another key prefix. */
    async function neighbour(): Promise<Store> {
      const opened = await makeStore();
      extra.push(opened);
      return opened.store;
    }

    /** Lets `ms` pass: instantly on the fake clock, for real otherwise. */
    async function elapse(ms: number): Promise<void> {
      if (current.clock) current.clock.advance(ms);
      else await sleep(ms);
    }

    const now = () => (current.clock ? current.clock.now() : performance.now());

    /**
     * Increments `key` in a window of `windowMs` and checks the time left it
     * reports against the clock, not against a speed: exact on the fake clock;
     * in real time, between what was left when the call went out and when its
     * answer came back (5 ms for rounding). `opened` is when the window's first
     * increment went out and came back (the first call opens it).
     */
    async function incrementIn(
      key: string,
      windowMs: number,
      opened?: { sent: number; back: number },
    ): Promise<{ count: number; ttlMs: number; opened: { sent: number; back: number } }> {
      const sent = now();
      const result = await store.increment(key, windowMs);
      const back = now();
      const window = opened ?? { sent, back };
      const slack = current.clock ? 0 : 5;
      expect(result.ttlMs).toBeLessThanOrEqual(windowMs - (sent - window.back) + slack);
      expect(result.ttlMs).toBeGreaterThanOrEqual(windowMs - (back - window.sent) - slack);
      return { ...result, opened: window };
    }

    describe('get / set', () => {
      it('returns null for a key never set', async () => {
        expect(await store.get('missing')).toBeNull();
      });

      it('returns the value set, and the latest one after an overwrite (empty and non-ASCII values too)', async () => {
        await store.set('k', 'first');
        expect(await store.get('k')).toBe('first');
        await store.set('k', 'zweite – 二 🙂');
        expect(await store.get('k')).toBe('zweite – 二 🙂');
        await store.set('empty', '');
        expect(await store.get('empty')).toBe('');
      });

      it('forgets a value once its TTL has passed, not before', async () => {
        await store.set('k', 'v', 100);
        await elapse(40);
        expect(await store.get('k')).toBe('v');
        await elapse(110);
        expect(await store.get('k')).toBeNull();
      });

      it('keeps a value set without TTL, even over one that had a TTL', async () => {
        await store.set('k', 'short', 100);
        await store.set('k', 'kept');
        await elapse(150);
        expect(await store.get('k')).toBe('kept');
      });

      it('rejects a non-positive TTL as a programming error (RangeError), writing nothing', async () => {
        await expect(store.set('k', 'v', 0)).rejects.toBeInstanceOf(RangeError);
        await expect(store.set('k', 'v', -5)).rejects.toBeInstanceOf(RangeError);
        expect(await store.get('k')).toBeNull();
      });
    });

    describe('delete', () => {
      it('removes a key and tells whether it existed', async () => {
        await store.set('k', 'v');
        expect(await store.delete('k')).toBe(true);
        expect(await store.get('k')).toBeNull();
        expect(await store.delete('k')).toBe(false);
      });

      it('treats an expired key as absent', async () => {
        await store.set('k', 'v', 100);
        await elapse(150);
        expect(await store.delete('k')).toBe(false);
      });
    });

    describe('take', () => {
      it('returns the value once and deletes it', async () => {
        await store.set('state', 'payload');
        expect(await store.take('state')).toBe('payload');
        expect(await store.take('state')).toBeNull();
        expect(await store.get('state')).toBeNull();
      });

      it('returns null for an absent or expired key', async () => {
        expect(await store.take('missing')).toBeNull();
        await store.set('k', 'v', 100);
        await elapse(150);
        expect(await store.take('k')).toBeNull();
      });

      it('gives the value to exactly one of 20 concurrent takes', async () => {
        await store.set('ticket', 'once');
        const results = await Promise.all(Array.from({ length: 20 }, () => store.take('ticket')));
        expect(results.filter((r) => r === 'once')).toHaveLength(1);
        expect(results.filter((r) => r === null)).toHaveLength(19);
      });
    });

    describe('compareAndSet', () => {
      it('with expected null writes only when the key is absent', async () => {
        expect(await store.compareAndSet('k', null, 'a')).toBe(true);
        expect(await store.get('k')).toBe('a');
        expect(await store.compareAndSet('k', null, 'b')).toBe(false);
        expect(await store.get('k')).toBe('a');
      });

      it('writes only when the current value is exactly the expected one', async () => {
        await store.set('k', 'a');
        expect(await store.compareAndSet('k', 'b', 'c')).toBe(false);
        expect(await store.compareAndSet('k', 'A', 'c')).toBe(false);
        expect(await store.get('k')).toBe('a');
        expect(await store.compareAndSet('k', 'a', 'c')).toBe(true);
        expect(await store.get('k')).toBe('c');
      });

      it('never matches an expected value on an absent key', async () => {
        expect(await store.compareAndSet('k', 'a', 'b')).toBe(false);
        expect(await store.compareAndSet('k', '', 'b')).toBe(false);
        expect(await store.get('k')).toBeNull();
      });

      it('with ttlMs makes the written key expire, after which the key counts as absent', async () => {
        expect(await store.compareAndSet('k', null, 'a', { ttlMs: 100 })).toBe(true);
        await elapse(40);
        expect(await store.get('k')).toBe('a');
        await elapse(110);
        expect(await store.get('k')).toBeNull();
        expect(await store.compareAndSet('k', 'a', 'b')).toBe(false);
        expect(await store.compareAndSet('k', null, 'b')).toBe(true);
      });

      it('without ttlMs keeps the TTL the key had (a transition never makes it immortal)', async () => {
        await store.set('k', 'pending', 100);
        expect(await store.compareAndSet('k', 'pending', 'scanned')).toBe(true);
        expect(await store.get('k')).toBe('scanned');
        await elapse(150);
        expect(await store.get('k')).toBeNull();
      });

      it('without ttlMs on an absent key writes a key that does not expire', async () => {
        expect(await store.compareAndSet('k', null, 'a')).toBe(true);
        await elapse(150);
        expect(await store.get('k')).toBe('a');
      });

      it('rejects a non-positive ttlMs with RangeError, writing nothing', async () => {
        await expect(store.compareAndSet('k', null, 'a', { ttlMs: 0 })).rejects.toBeInstanceOf(RangeError);
        expect(await store.get('k')).toBeNull();
      });

      it('lets exactly one of 50 concurrent transitions from the same value win', async () => {
        await store.set('session', 'v0');
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => store.compareAndSet('session', 'v0', `v${i + 1}`)),
        );
        const winners = results.flatMap((won, i) => (won ? [i + 1] : []));
        expect(winners).toHaveLength(1);
        expect(await store.get('session')).toBe(`v${winners[0]}`);
      });

      it('publishes exactly the successful transitions, in order', async () => {
        const events = await listen(store, 'events');
        const publish = (message: string) => ({ publish: { channel: 'events', message } });
        expect(await store.compareAndSet('k', null, 'a', publish('created a'))).toBe(true);
        expect(await store.compareAndSet('k', null, 'x', publish('created x'))).toBe(false);
        expect(await store.compareAndSet('k', 'a', 'b', publish('a→b'))).toBe(true);
        expect(await store.compareAndSet('k', 'a', 'c', publish('a→c'))).toBe(false);
        expect(await store.compareAndSet('k', 'b', 'c', publish('b→c'))).toBe(true);
        await events.drain(store);
        expect(events.messages).toEqual(['created a', 'a→b', 'b→c']);
      });

      it('publishes once, for the winner, when 50 concurrent transitions race', async () => {
        const events = await listen(store, 'events');
        await store.set('session', 'v0');
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            store.compareAndSet('session', 'v0', `v${i + 1}`, {
              publish: { channel: 'events', message: `won by ${i}` },
            }),
          ),
        );
        await events.drain(store);
        expect(events.messages).toEqual([`won by ${results.indexOf(true)}`]);
      });
    });

    describe('increment', () => {
      it('counts within a window that starts at the first increment and is never extended', async () => {
        const first = await incrementIn('hits', 1_000);
        expect(first.count).toBe(1);
        await elapse(100);
        // Left: what the first increment started, less the time since (never a new window).
        const second = await incrementIn('hits', 1_000, first.opened);
        expect(second.count).toBe(2);
      });

      it('starts again from 1 once the window has passed', async () => {
        await store.increment('hits', 100);
        await store.increment('hits', 100);
        await elapse(150);
        const fresh = await incrementIn('hits', 100);
        expect(fresh.count).toBe(1);
      });

      it('counts each of 30 concurrent increments once', async () => {
        const results = await Promise.all(Array.from({ length: 30 }, () => store.increment('hits', 10_000)));
        expect(results.map((r) => r.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      });

      it('keeps separate counters per key', async () => {
        await store.increment('a', 1_000);
        await store.increment('a', 1_000);
        expect((await store.increment('b', 1_000)).count).toBe(1);
        expect((await store.increment('a', 1_000)).count).toBe(3);
      });

      it('rejects a non-positive window with RangeError', async () => {
        await expect(store.increment('hits', 0)).rejects.toBeInstanceOf(RangeError);
      });
    });

    describe('publish / subscribe', () => {
      it('delivers to every subscriber of the channel, in publish order', async () => {
        const first = await listen(store, 'ch');
        const second = await listen(store, 'ch');
        const sent = Array.from({ length: 30 }, (_, i) => `m${i}`);
        await Promise.all(sent.map((m) => store.publish('ch', m)));
        await first.drain(store);
        await second.drain(store);
        expect(first.messages).toEqual(sent);
        expect(second.messages).toEqual(sent);
      });

      it('is active as soon as subscribe() resolves: a message published right after is delivered', async () => {
        const received: string[] = [];
        await store.subscribe('ch', (m) => received.push(m));
        await store.publish('ch', 'hello');
        await waitFor(() => received.length === 1, 'the message');
        expect(received).toEqual(['hello']);
      });

      it('stops delivering to an unsubscribed handler, and only to it', async () => {
        const leaving = await listen(store, 'ch');
        const staying = await listen(store, 'ch');
        await store.publish('ch', 'before');
        await leaving.drain(store);
        await leaving.unsubscribe();
        await store.publish('ch', 'after');
        await staying.drain(store);
        expect(leaving.messages).toEqual(['before']);
        expect(staying.messages).toEqual(['before', 'after']);
      });

      it('after the last handler of a channel leaves, a new subscription works and the old gets nothing', async () => {
        const old = await listen(store, 'ch');
        await old.unsubscribe();
        await old.unsubscribe(); // a second call is harmless
        const renewed = await listen(store, 'ch');
        await store.publish('ch', 'new');
        await renewed.drain(store);
        expect(renewed.messages).toEqual(['new']);
        expect(old.messages).toEqual([]);
      });

      it('removes one of two subscriptions of the same handler', async () => {
        const received: string[] = [];
        const handler = (m: string) => {
          if (!isMarker(m)) received.push(m);
        };
        const sink = await listen(store, 'ch');
        const off = await store.subscribe('ch', handler);
        await store.subscribe('ch', handler);
        await store.publish('ch', 'twice');
        await sink.drain(store);
        await off();
        await store.publish('ch', 'once');
        await sink.drain(store);
        expect(received).toEqual(['twice', 'twice', 'once']);
      });

      it('does not leak messages between channels', async () => {
        const a = await listen(store, 'a');
        const b = await listen(store, 'b');
        await store.publish('a', 'for a');
        await store.publish('b', 'for b');
        await store.publish('c', 'for nobody');
        await a.drain(store);
        await b.drain(store);
        expect(a.messages).toEqual(['for a']);
        expect(b.messages).toEqual(['for b']);
      });

      it('keeps delivering to other subscribers when one handler throws', async () => {
        const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
        try {
          await store.subscribe('ch', () => {
            throw new Error('subscriber bug');
          });
          const healthy = await listen(store, 'ch');
          await store.publish('ch', 'still delivered');
          await healthy.drain(store);
          expect(healthy.messages).toEqual(['still delivered']);
          expect(logged).toHaveBeenCalled();
        } finally {
          logged.mockRestore();
        }
      });
    });

    describe('due set (schedule / unschedule / takeDue)', () => {
      /** Epoch ms far from 0, like real due times (exact as Redis scores: integers below 2^53). */
      const T = 1_700_000_000_000;

      it('takes the due members earliest first and removes them', async () => {
        await store.schedule('due', 'c', T + 30);
        await store.schedule('due', 'a', T + 10);
        await store.schedule('due', 'b', T + 20);
        expect(await store.takeDue('due', T + 30, 10)).toEqual(['a', 'b', 'c']);
        expect(await store.takeDue('due', T + 30, 10)).toEqual([]);
      });

      it('counts a member due exactly now as due, and leaves those not yet due', async () => {
        await store.schedule('due', 'now', T);
        await store.schedule('due', 'soon', T + 1);
        await store.schedule('due', 'later', T + 60_000);
        expect(await store.takeDue('due', T - 1, 10)).toEqual([]);
        expect(await store.takeDue('due', T, 10)).toEqual(['now']);
        expect(await store.takeDue('due', T + 1, 10)).toEqual(['soon']);
        expect(await store.takeDue('due', T + 60_000, 10)).toEqual(['later']);
      });

      it('returns at most `limit` members, the earliest, leaving the rest for the next call', async () => {
        for (let i = 0; i < 5; i++) await store.schedule('due', `m${i}`, T + 5 - i);
        expect(await store.takeDue('due', T + 10, 2)).toEqual(['m4', 'm3']);
        expect(await store.takeDue('due', T + 10, 1)).toEqual(['m2']);
        expect(await store.takeDue('due', T + 10, 1_000)).toEqual(['m1', 'm0']);
      });

      it('re-scheduling moves a member (later or earlier) instead of adding it twice', async () => {
        await store.schedule('due', 'a', T + 10);
        await store.schedule('due', 'b', T + 20);
        await store.schedule('due', 'a', T + 30);
        expect(await store.takeDue('due', T + 25, 10)).toEqual(['b']);
        await store.schedule('due', 'a', T + 5);
        expect(await store.takeDue('due', T + 25, 10)).toEqual(['a']);
        expect(await store.takeDue('due', T + 100, 10)).toEqual([]);
      });

      it('with a lease, keeps what it hands out, due again when the lease ends, until unscheduled', async () => {
        await store.schedule('due', 'a', T);
        await store.schedule('due', 'b', T);
        await store.schedule('due', 'later', T + 60_000);
        expect(await store.takeDue('due', T, 10, 30_000)).toEqual(['a', 'b']);
        // Held by the first taker for the lease: nobody else gets them meanwhile.
        expect(await store.takeDue('due', T + 29_999, 10, 30_000)).toEqual([]);
        // The taker finished `a` (unschedule) and died holding `b`: `b` comes back, leased anew.
        await store.unschedule('due', 'a');
        expect(await store.takeDue('due', T + 30_000, 10, 30_000)).toEqual(['b']);
        expect(await store.takeDue('due', T + 59_999, 10, 30_000)).toEqual([]);
        expect(await store.takeDue('due', T + 60_000, 10)).toEqual(['b', 'later']);
        expect(await store.takeDue('due', T + 1_000_000, 10)).toEqual([]);
      });

      it('refuses a lease that is not a positive whole number of milliseconds', async () => {
        for (const lease of [0, -1, 1.5, Number.NaN]) {
          await expect(store.takeDue('due', T, 10, lease)).rejects.toThrow(RangeError);
        }
      });

      it('unschedule removes only that member, and is harmless for an absent one or set', async () => {
        await store.schedule('due', 'a', T);
        await store.schedule('due', 'b', T);
        await store.unschedule('due', 'a');
        await store.unschedule('due', 'a');
        await store.unschedule('due', 'never-there');
        await store.unschedule('no-such-set', 'a');
        expect(await store.takeDue('due', T, 10)).toEqual(['b']);
        expect(await store.takeDue('no-such-set', T, 10)).toEqual([]);
      });

      it('keeps sets apart, and a set usable after it was emptied', async () => {
        await store.schedule('one', 'x', T);
        await store.schedule('two', 'x', T);
        await store.schedule('two', 'y', T + 1);
        expect(await store.takeDue('one', T + 1, 10)).toEqual(['x']);
        expect(await store.takeDue('two', T + 1, 10)).toEqual(['x', 'y']);
        await store.schedule('one', 'z', T + 2);
        expect(await store.takeDue('one', T + 2, 10)).toEqual(['z']);
      });

      it.each([
        ['removed', undefined],
        ['leased', 60_000],
      ])('hands out each of 100 due members exactly once to 20 parallel takeDue calls (%s)', async (_how, lease) => {
        const members = Array.from({ length: 100 }, (_, i) => `session-${String(i).padStart(3, '0')}`);
        await Promise.all(members.map((m, i) => store.schedule('due', m, T + (i % 7))));
        await store.schedule('due', 'not-yet', T + 1_000);
        const batches = await Promise.all(Array.from({ length: 20 }, () => store.takeDue('due', T + 10, 7, lease)));
        const taken = batches.flat();
        expect(new Set(taken).size).toBe(taken.length);
        expect([...taken].sort()).toEqual(members);
        for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(7);
        expect(await store.takeDue('due', T + 10, 1_000)).toEqual([]);
        expect(await store.takeDue('due', T + 1_000, 1_000)).toEqual(['not-yet']);
      });

      it('rejects non-finite times and a limit outside 1..1000 with RangeError, changing nothing', async () => {
        await expect(store.schedule('due', 'a', Number.NaN)).rejects.toBeInstanceOf(RangeError);
        await expect(store.schedule('due', 'a', Number.POSITIVE_INFINITY)).rejects.toBeInstanceOf(RangeError);
        await store.schedule('due', 'b', T);
        await expect(store.takeDue('due', Number.NaN, 10)).rejects.toBeInstanceOf(RangeError);
        await expect(store.takeDue('due', Number.POSITIVE_INFINITY, 10)).rejects.toBeInstanceOf(RangeError);
        for (const limit of [0, -1, 1_001, 1.5, Number.NaN]) {
          await expect(store.takeDue('due', T, limit)).rejects.toBeInstanceOf(RangeError);
        }
        expect(await store.takeDue('due', Number.MAX_SAFE_INTEGER, 1_000)).toEqual(['b']);
      });
    });

    describe('key prefix isolation', () => {
      it('two stores with different prefixes do not see each other’s keys', async () => {
        const other = await neighbour();
        await store.set('shared-name', 'mine');
        expect(await other.get('shared-name')).toBeNull();
        expect(await other.compareAndSet('shared-name', null, 'theirs')).toBe(true);
        expect(await other.take('shared-name')).toBe('theirs');
        expect(await store.get('shared-name')).toBe('mine');
        expect((await other.increment('counter', 1_000)).count).toBe(1);
        expect((await store.increment('counter', 1_000)).count).toBe(1);
      });

      it('two stores with different prefixes do not see each other’s due sets', async () => {
        const other = await neighbour();
        await store.schedule('due', 'shared-member', 1_000);
        await store.schedule('due', 'mine', 1_000);
        await other.schedule('due', 'shared-member', 2_000);
        await other.unschedule('due', 'mine');
        expect(await other.takeDue('due', 1_500, 10)).toEqual([]);
        expect(await other.takeDue('due', 2_000, 10)).toEqual(['shared-member']);
        expect(await store.takeDue('due', 1_000, 10)).toEqual(['mine', 'shared-member']);
      });

      it('two stores with different prefixes do not see each other’s channels', async () => {
        const other = await neighbour();
        const mine = await listen(store, 'events');
        const theirs = await listen(other, 'events');
        await other.publish('events', 'for them');
        await other.compareAndSet('k', null, 'v', { publish: { channel: 'events', message: 'their transition' } });
        await store.publish('events', 'for me');
        await mine.drain(store);
        await theirs.drain(other);
        expect(mine.messages).toEqual(['for me']);
        expect(theirs.messages).toEqual(['for them', 'their transition']);
      });
    });

    describe('ping and shutdown', () => {
      it('answers ping while up', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it('fails every call with StoreUnavailableError once closed', async () => {
        await current.close();
        const calls: Array<() => Promise<unknown>> = [
          () => store.get('k'),
          () => store.set('k', 'v'),
          () => store.delete('k'),
          () => store.take('k'),
          () => store.compareAndSet('k', null, 'v'),
          () => store.increment('k', 1_000),
          () => store.publish('ch', 'm'),
          () => store.subscribe('ch', () => undefined),
          () => store.schedule('due', 'm', 1_000),
          () => store.unschedule('due', 'm'),
          () => store.takeDue('due', 1_000, 10),
          () => store.ping(),
        ];
        for (const call of calls) await expect(call()).rejects.toBeInstanceOf(StoreUnavailableError);
      });
    });
  });
}

/** A subscription that records what it receives. */
export interface Listener {
  channel: string;
  messages: string[];
  unsubscribe(): Promise<void>;
  /**
   * Publishes a marker through `via` and waits for it: everything published
   * before has then been delivered (a channel keeps publish order), so
   * `messages` is complete. The marker is not kept in `messages`.
   */
  drain(via: Store): Promise<void>;
}

const MARKER_PREFIX = 'drain-marker-';

function isMarker(message: string): boolean {
  return message.startsWith(MARKER_PREFIX);
}

export async function listen(store: Store, channel: string): Promise<Listener> {
  const messages: string[] = [];
  const seen = new Set<string>();
  // Markers (this listener's and those of others on the channel) are not messages.
  const unsubscribe = await store.subscribe(channel, (message) => {
    if (isMarker(message)) seen.add(message);
    else messages.push(message);
  });
  return {
    channel,
    messages,
    unsubscribe,
    async drain(via: Store) {
      const marker = `${MARKER_PREFIX}${Math.random().toString(36).slice(2)}`;
      await via.publish(channel, marker);
      await waitFor(() => seen.has(marker), `the drain marker on "${channel}"`);
    },
  };
}

/** Polls until `condition` holds, failing after `timeoutMs` with what was awaited. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
