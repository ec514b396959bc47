import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { FakeClock } from '../../support/fake-clock.js';
import { MemoryStore } from '../../../src/store/memory.store.js';
import { QrLoginError } from '../../../src/qr-login/qr-login.errors.js';
import type { QrSessionRecord, QrStatus, QrStatusView } from '../../../src/qr-login/qr-session.js';
import {
  QR_EVENTS_CHANNEL,
  QR_RETENTION_MS,
  QR_SWEEP_LEASE_MS,
  QrSessionStore,
} from '../../../src/qr-login/qr-sessions.store.js';

const TTL_MS = 120_000;

/** Lets the store's microtask deliveries (and anything they start) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function newRecord(clock: FakeClock, overrides: Partial<QrSessionRecord> = {}): QrSessionRecord {
  const now = clock.now();
  return {
    id: randomBytes(32).toString('base64url'),
    pollTokenHash: randomBytes(32).toString('base64url'),
    status: 'pending',
    version: 1,
    createdAt: now,
    expiresAt: now + TTL_MS,
    updatedAt: now,
    returnTo: null,
    matchCode: '37',
    matchChoices: ['82', '37', '15'],
    requester: {
      ip: '198.51.100.7',
      browser: 'Chrome 142',
      os: 'Windows 10',
      deviceType: 'desktop',
      createdAt: new Date(now).toISOString(),
      location: null,
    },
    scanner: null,
    ...overrides,
  };
}

const scanner = (sessionId = 'phone-session') => ({
  userId: 'user-1',
  sessionId,
  deviceId: 'device-1',
  ip: '198.51.100.8',
  scannedAt: '2026-01-01T00:00:00.000Z',
});
const refusal = () => new QrLoginError('qr.wrong_state');

describe('QrSessionStore (MemoryStore, fake clock)', () => {
  let clock: FakeClock;
  let store: MemoryStore;
  let sessions: QrSessionStore;
  let events: QrStatusView[];

  beforeEach(async () => {
    clock = new FakeClock();
    store = new MemoryStore(clock);
    sessions = new QrSessionStore(store, clock);
    events = [];
    await store.subscribe(QR_EVENTS_CHANNEL, (message) => events.push(JSON.parse(message) as QrStatusView));
  });

  afterEach(() => store.onApplicationShutdown());

  /** Creates a session and forgets the creation event. */
  async function created(overrides: Partial<QrSessionRecord> = {}): Promise<QrSessionRecord> {
    const record = newRecord(clock, overrides);
    await sessions.create(record);
    await sessions.scheduleAt(record.id, record.expiresAt);
    await settle();
    events.length = 0;
    return record;
  }

  describe('create and find', () => {
    it('stores the record as given and announces it (version 1)', async () => {
      const record = newRecord(clock);
      await sessions.create(record);
      expect(await sessions.find(record.id)).toEqual(record);
      expect(await sessions.read(record.id)).toEqual(record);
      await settle();
      expect(events).toEqual([
        {
          id: record.id,
          status: 'pending',
          version: 1,
          expiresAt: new Date(record.expiresAt).toISOString(),
          scannerSessionId: null,
        },
      ]);
    });

    it('answers null for an unknown id', async () => {
      expect(await sessions.find('A'.repeat(43))).toBeNull();
      expect(await sessions.read('A'.repeat(43))).toBeNull();
    });

    it('refuses to overwrite an existing id', async () => {
      const record = await created();
      await expect(sessions.create({ ...record, status: 'scanned' })).rejects.toThrow(/collision/);
      expect((await sessions.find(record.id))!.status).toBe('pending');
    });
  });

  describe('transition', () => {
    it('applies the patch, bumps the version and publishes exactly one event', async () => {
      const record = await created();
      clock.advance(1_000);
      const next = await sessions.transition(
        record.id,
        ['pending'],
        'scanned',
        () => ({ scanner: scanner() }),
        refusal,
      );
      expect(next).toMatchObject({ status: 'scanned', version: 2, updatedAt: clock.now(), scanner: scanner() });
      expect(await sessions.find(record.id)).toEqual(next);
      await settle();
      expect(events).toEqual([
        {
          id: record.id,
          status: 'scanned',
          version: 2,
          expiresAt: new Date(record.expiresAt).toISOString(),
          scannerSessionId: 'phone-session',
        },
      ]);
    });

    it('walks pending → scanned → confirmed → consumed, one version and one event per step', async () => {
      const record = await created();
      await sessions.transition(record.id, ['pending'], 'scanned', () => ({ scanner: scanner() }), refusal);
      await sessions.transition(record.id, ['scanned'], 'confirmed', () => ({}), refusal);
      const consumed = await sessions.transition(
        record.id,
        ['confirmed'],
        'consumed',
        () => ({ webSessionId: 'web-1' }),
        refusal,
      );
      expect(consumed).toMatchObject({ status: 'consumed', version: 4, webSessionId: 'web-1' });
      await settle();
      expect(events.map((e) => [e.status, e.version])).toEqual([
        ['scanned', 2],
        ['confirmed', 3],
        ['consumed', 4],
      ]);
    });

    it.each<[string, QrStatus[], QrStatus, QrStatus]>([
      ['consumed before confirmation (not allowed from pending)', ['pending'], 'consumed', 'pending'],
      ['confirmed from pending', ['pending'], 'confirmed', 'pending'],
      ['from a state the caller does not accept', ['scanned'], 'cancelled', 'pending'],
    ])('refuses %s with the given refusal and changes nothing', async (_name, from, to, state) => {
      const record = await created();
      const refused = new QrLoginError('qr.already_scanned');
      let seen: QrSessionRecord | undefined;
      await expect(
        sessions.transition(
          record.id,
          from,
          to,
          () => ({ scanner: scanner() }),
          (current) => {
            seen = current;
            return refused;
          },
        ),
      ).rejects.toBe(refused);
      expect(seen).toEqual(record);
      expect(await sessions.find(record.id)).toEqual({ ...record, status: state });
      await settle();
      expect(events).toEqual([]);
    });

    it('never leaves a terminal state', async () => {
      const record = await created();
      await sessions.transition(record.id, ['pending'], 'cancelled', () => ({ cancelReason: 'declined' }), refusal);
      await settle();
      events.length = 0;
      for (const to of ['pending', 'scanned', 'confirmed', 'consumed', 'expired'] as const) {
        await expect(sessions.transition(record.id, ['cancelled'], to, () => ({}), refusal)).rejects.toMatchObject({
          code: 'qr.wrong_state',
        });
      }
      expect(await sessions.expire(record.id)).toBeNull();
      expect(await sessions.find(record.id)).toMatchObject({ status: 'cancelled', version: 2 });
      await settle();
      expect(events).toEqual([]);
    });

    it('answers qr.not_found for an unknown id', async () => {
      await expect(
        sessions.transition('A'.repeat(43), ['pending'], 'scanned', () => ({}), refusal),
      ).rejects.toMatchObject({ code: 'qr.not_found' });
    });

    it('lets exactly one of 20 parallel pending → scanned transitions win; the others get the refusal', async () => {
      const record = await created();
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          sessions.transition(
            record.id,
            ['pending'],
            'scanned',
            () => ({ scanner: scanner(`phone-${i}`) }),
            () => new QrLoginError('qr.already_scanned'),
          ),
        ),
      );
      const won = results.filter((r): r is PromiseFulfilledResult<QrSessionRecord> => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(19);
      for (const r of lost) expect(r.reason).toMatchObject({ code: 'qr.already_scanned' });
      const stored = await sessions.find(record.id);
      expect(stored).toMatchObject({ status: 'scanned', version: 2 });
      expect(stored!.scanner).toEqual(won[0]!.value.scanner);
      await settle();
      expect(events).toHaveLength(1);
    });

    it('starts from a record the caller read, and decides again on the fresh one when it went stale', async () => {
      const record = await created();
      const seen = (await sessions.read(record.id))!;
      // Another caller moves the session on after `seen` was read.
      await sessions.transition(record.id, ['pending'], 'scanned', () => ({ scanner: scanner('phone-a') }), refusal);
      // From the stale record `pending → scanned` looks allowed; the compare-and-set fails, the fresh read refuses.
      await expect(
        sessions.transition(
          record.id,
          ['pending'],
          'scanned',
          () => ({ scanner: scanner('phone-b') }),
          () => new QrLoginError('qr.already_scanned'),
          seen,
        ),
      ).rejects.toMatchObject({ code: 'qr.already_scanned' });
      expect((await sessions.find(record.id))!.scanner!.sessionId).toBe('phone-a');
      await settle();
      expect(events.map((e) => [e.status, e.version])).toEqual([['scanned', 2]]);

      // A fresh `seen` is used as it is; the result can be passed on to the next step.
      const scanned = (await sessions.read(record.id))!;
      const confirmed = await sessions.transition(record.id, ['scanned'], 'confirmed', () => ({}), refusal, scanned);
      const consumed = await sessions.transition(record.id, ['confirmed'], 'consumed', () => ({}), refusal, confirmed);
      expect(consumed).toMatchObject({ status: 'consumed', version: 4 });
      // A record of another session is never used as this one's.
      const other = await created();
      await expect(
        sessions.transition(other.id, ['pending'], 'cancelled', () => ({}), refusal, consumed),
      ).resolves.toMatchObject({ id: other.id, status: 'cancelled', version: 2 });
    });
  });

  describe('expiry by the clock', () => {
    it('is still pending one millisecond before expiresAt', async () => {
      const record = await created();
      clock.advance(TTL_MS - 1);
      expect(await sessions.read(record.id)).toMatchObject({ status: 'pending', version: 1 });
      await sessions.transition(record.id, ['pending'], 'scanned', () => ({ scanner: scanner() }), refusal);
    });

    it('reads as expired once past expiresAt, moving it there with one event', async () => {
      const record = await created();
      clock.advance(TTL_MS);
      expect(await sessions.find(record.id)).toMatchObject({ status: 'pending' }); // not moved by a plain find
      const read = await sessions.read(record.id);
      expect(read).toMatchObject({ status: 'expired', version: 2 });
      expect(await sessions.find(record.id)).toMatchObject({ status: 'expired', version: 2 });
      expect(await sessions.read(record.id)).toMatchObject({ status: 'expired', version: 2 }); // no second move
      await settle();
      expect(events).toEqual([
        {
          id: record.id,
          status: 'expired',
          version: 2,
          expiresAt: new Date(record.expiresAt).toISOString(),
          scannerSessionId: null,
        },
      ]);
    });

    it('tells every expiry listener once, even when one throws, until it stops listening', async () => {
      const first: string[] = [];
      const second: string[] = [];
      const stopFirst = sessions.onExpired((r) => first.push(r.id));
      sessions.onExpired(() => {
        throw new Error('a broken listener');
      });
      sessions.onExpired((r) => second.push(r.id));
      const a = await created();
      clock.advance(TTL_MS);
      await sessions.read(a.id);
      await sessions.read(a.id);
      expect(first).toEqual([a.id]);
      expect(second).toEqual([a.id]);
      stopFirst();
      const b = await created();
      clock.advance(TTL_MS);
      await sessions.read(b.id);
      expect(first).toEqual([a.id]);
      expect(second).toEqual([a.id, b.id]);
    });

    it('refuses a later transition of a live state with qr.expired, and expires it (one event)', async () => {
      const record = await created();
      await sessions.transition(record.id, ['pending'], 'scanned', () => ({ scanner: scanner() }), refusal);
      clock.advance(TTL_MS + 1);
      await settle();
      events.length = 0;
      // The caller's refusal would say wrong_state; expiry wins whatever the caller expects.
      await expect(sessions.transition(record.id, ['scanned'], 'confirmed', () => ({}), refusal)).rejects.toMatchObject(
        { code: 'qr.expired' },
      );
      expect(await sessions.find(record.id)).toMatchObject({ status: 'expired', version: 3 });
      await settle();
      expect(events).toEqual([expect.objectContaining({ status: 'expired', version: 3 })]);
      // And again, now that it is stored as expired: still nothing moves.
      await expect(
        sessions.transition(
          record.id,
          ['scanned'],
          'confirmed',
          () => ({}),
          (current) => new QrLoginError(current.status === 'expired' ? 'qr.expired' : 'qr.wrong_state'),
        ),
      ).rejects.toMatchObject({ code: 'qr.expired' });
      await settle();
      expect(events).toHaveLength(1);
    });

    it('expires pending, scanned and confirmed sessions alike', async () => {
      for (const path of [[], ['scanned'], ['scanned', 'confirmed']] as QrStatus[][]) {
        const record = await created();
        let from: QrStatus = 'pending';
        for (const to of path) {
          await sessions.transition(
            record.id,
            [from],
            to,
            () => (to === 'scanned' ? { scanner: scanner() } : {}),
            refusal,
          );
          from = to;
        }
        clock.advance(TTL_MS);
        expect(await sessions.read(record.id)).toMatchObject({ status: 'expired', version: path.length + 2 });
      }
    });

    it('keeps a terminal state readable for 5 minutes after it is reached, then drops it', async () => {
      const record = await created();
      clock.advance(10_000);
      await sessions.transition(record.id, ['pending'], 'scanned', () => ({ scanner: scanner() }), refusal);
      await sessions.transition(record.id, ['scanned'], 'confirmed', () => ({}), refusal);
      await sessions.transition(record.id, ['confirmed'], 'consumed', () => ({}), refusal);
      clock.advance(QR_RETENTION_MS - 1);
      expect(await sessions.read(record.id)).toMatchObject({ status: 'consumed' });
      clock.advance(1);
      expect(await sessions.read(record.id)).toBeNull();
      expect(await sessions.find(record.id)).toBeNull();
    });

    it('keeps an expired session readable for 5 minutes from when it was moved, however late that was', async () => {
      const record = await created();
      clock.advance(TTL_MS + 60_000); // nobody looked for a minute
      expect(await sessions.read(record.id)).toMatchObject({ status: 'expired' });
      clock.advance(QR_RETENTION_MS - 1);
      expect(await sessions.read(record.id)).toMatchObject({ status: 'expired' });
      clock.advance(1);
      expect(await sessions.read(record.id)).toBeNull();
    });

    it('drops a live session nobody moved 5 minutes after expiresAt', async () => {
      const record = await created();
      clock.advance(TTL_MS + QR_RETENTION_MS - 1);
      expect(await sessions.find(record.id)).not.toBeNull();
      clock.advance(1);
      expect(await sessions.find(record.id)).toBeNull();
      expect(await sessions.read(record.id)).toBeNull();
    });
  });

  describe('due sessions and two sweepers', () => {
    it('lets another instance expire what a sweeper took before it died, once the lease ends (one event each)', async () => {
      const other = new QrSessionStore(store, clock);
      const records = [await created(), await created()];
      clock.advance(TTL_MS);
      // The first instance takes both and dies before expiring them.
      expect((await sessions.takeDue(10)).sort()).toEqual(records.map((r) => r.id).sort());
      expect(await other.takeDue(10)).toEqual([]);
      clock.advance(QR_SWEEP_LEASE_MS);
      const taken = await other.takeDue(10);
      expect(taken.sort()).toEqual(records.map((r) => r.id).sort());
      for (const id of taken) expect(await other.expire(id)).toMatchObject({ status: 'expired' });
      await settle();
      expect(events.map((e) => e.status)).toEqual(['expired', 'expired']);
      // Expired sessions left the due set: no third sweep finds them.
      clock.advance(QR_SWEEP_LEASE_MS);
      expect(await other.takeDue(10)).toEqual([]);
    });

    it('hands each due session to exactly one of two stores, which expire each exactly once (one event each)', async () => {
      const other = new QrSessionStore(store, clock); // a second instance on the same shared store
      const due = [];
      for (let i = 0; i < 60; i++) due.push(await created());
      clock.advance(30_000);
      const late = await created(); // due later: must stay
      clock.advance(TTL_MS - 30_000);

      const expiredBy = new Map<string, number>();
      async function sweeper(s: QrSessionStore): Promise<string[]> {
        const taken: string[] = [];
        for (;;) {
          const ids = await s.takeDue(7);
          if (ids.length === 0) return taken;
          for (const id of ids) {
            taken.push(id);
            if (await s.expire(id)) expiredBy.set(id, (expiredBy.get(id) ?? 0) + 1);
          }
        }
      }
      const [a, b] = await Promise.all([sweeper(sessions), sweeper(other)]);
      expect(a.length).toBeGreaterThan(0);
      expect(b.length).toBeGreaterThan(0);
      expect(new Set([...a, ...b]).size).toBe(a.length + b.length);
      expect(new Set([...a, ...b])).toEqual(new Set(due.map((r) => r.id)));
      expect([...expiredBy.values()].every((n) => n === 1)).toBe(true);
      expect(expiredBy.size).toBe(60);
      for (const r of due) expect(await sessions.find(r.id)).toMatchObject({ status: 'expired', version: 2 });
      await settle();
      expect(events).toHaveLength(60);
      expect(new Set(events.map((e) => e.id)).size).toBe(60);
      expect(events.every((e) => e.status === 'expired')).toBe(true);
      expect(await sessions.find(late.id)).toMatchObject({ status: 'pending' });
      expect(await sessions.takeDue(100)).toEqual([]);
    });

    it('expires a due session once even when both stores race on the same id', async () => {
      const other = new QrSessionStore(store, clock);
      const record = await created();
      clock.advance(TTL_MS);
      const results = await Promise.all([sessions.expire(record.id), other.expire(record.id), other.expire(record.id)]);
      expect(results.filter((r) => r !== null)).toEqual([expect.objectContaining({ status: 'expired', version: 2 })]);
      expect(await sessions.find(record.id)).toMatchObject({ status: 'expired', version: 2 });
      await settle();
      expect(events).toHaveLength(1);
    });

    it('answers the stored record to a read that loses the expiry race, not a made-up "expired" at the old version', async () => {
      const other = new QrSessionStore(store, clock);
      const record = await created();
      clock.advance(TTL_MS);
      // The sweeper on another instance and two readers all find it past its expiry at once.
      const [swept, readA, readB] = await Promise.all([
        other.expire(record.id),
        sessions.read(record.id),
        other.read(record.id),
      ]);
      expect(swept).toMatchObject({ status: 'expired', version: 2 });
      await settle();
      expect(events).toHaveLength(1);
      // What the store holds (and what was published) is `expired` at version 2; a reader
      // must never answer `expired` at version 1, a state that never existed.
      expect(readA).toMatchObject({ status: 'expired', version: 2 });
      expect(readB).toMatchObject({ status: 'expired', version: 2 });
    });

    it('takes a session off the due set when it finishes early', async () => {
      const record = await created();
      await sessions.transition(record.id, ['pending'], 'cancelled', () => ({}), refusal);
      clock.advance(TTL_MS);
      expect(await sessions.takeDue(100)).toEqual([]);
    });
  });
});
