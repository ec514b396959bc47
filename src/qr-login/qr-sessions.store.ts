import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/index.js';
import { randomUUID } from 'node:crypto';
import { StoreUnavailableError, STORE, type CompareAndSetOptions, type Store } from '../store/index.js';

import { QrLoginError } from './qr-login.errors.js';
import { canTransition, qrEvent, TERMINAL, type QrSessionRecord, type QrStatus } from './qr-session.js';

/** Every change of every QR session is published here (long polls, sockets, sweeper). */
export const QR_EVENTS_CHANNEL = 'qr:events';
/** Ids of live sessions by expiry time, for the sweeper. */
export const QR_DUE_SET = 'qr:due';
/** How long a sweeper holds the due sessions it took before another may take them. */
export const QR_SWEEP_LEASE_MS = 30_000;
/** Terminal states, and records past their expiry, stay answerable this long. */
export const QR_RETENTION_MS = 5 * 60_000;
/** How long an exchange holds a confirmed session while it makes the web session (see `claimExchange`). */
export const QR_EXCHANGE_LEASE_MS = 15_000;

const key = (id: string) => `qr:session:${id}`;
/** The live QR sessions a phone session scanned (a due set used as a plain set: see `indexScanner`). */
const scannedBySet = (sessionId: string) => `qr:scanned-by:${sessionId}`;

/** How a failed transition should be answered, from the state it found. */
export type TransitionRefusal = (current: QrSessionRecord) => QrLoginError;

/**
 * QR sessions in the shared store, one JSON value each. A transition reads the
 * value, checks the table of allowed transitions, and writes the next value
 * with a compare-and-set on the exact value it read, publishing the change in
 * the same atomic step; if anything changed meanwhile it starts over. No
 * read-then-write can lose an update, and of racing callers exactly one wins.
 */
@Injectable()
export class QrSessionStore {
  private readonly expiredListeners = new Set<(record: QrSessionRecord) => void>();
  /** The stored text each record read here was parsed from: a transition can start from it without reading again. */
  private readonly rawOf = new WeakMap<QrSessionRecord, string>();

  constructor(
    @Inject(STORE) private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async create(record: QrSessionRecord): Promise<void> {
    const written = await this.store.compareAndSet(key(record.id), null, JSON.stringify(record), {
      ttlMs: record.expiresAt + QR_RETENTION_MS - this.clock.now(),
      publish: { channel: QR_EVENTS_CHANNEL, message: JSON.stringify(qrEvent(record)) },
    });
    if (!written) throw new Error('QR session id collision'); // 256 random bits: never in practice
  }

  /** The record as stored, or null. (Past `expiresAt` it may still say `pending`: see `read`.) */
  async find(id: string): Promise<QrSessionRecord | null> {
    const raw = await this.store.get(key(id));
    return raw === null ? null : this.parse(raw);
  }

  /**
   * The record as it stands now: a live state past its expiry reads as
   * `expired` (and is moved there, publishing the change, if nobody has yet).
   */
  async read(id: string): Promise<QrSessionRecord | null> {
    const record = await this.find(id);
    if (!record || TERMINAL.has(record.status) || this.clock.now() < record.expiresAt) return record;
    return (await this.expire(id)) ?? (await this.find(id));
  }

  /**
   * Moves a session from one of `from` to `to`, applying `patch` to the record.
   * `refuse` decides the error when the current state does not allow it.
   * `seen`, a record the caller just read from this store, saves the first
   * read: the compare-and-set is then made against it, and if the session
   * changed since, the transition reads it afresh and decides again.
   *
   * A confirmed session held by an exchange (`claimExchange`) moves only by
   * that exchange's hand (`claim`), even past its expiry, until the lease ends.
   */
  async transition(
    id: string,
    from: readonly QrStatus[],
    to: QrStatus,
    patch: (current: QrSessionRecord) => Partial<QrSessionRecord>,
    refuse: TransitionRefusal,
    seen?: QrSessionRecord,
    claim?: string,
  ): Promise<QrSessionRecord> {
    let known = seen && seen.id === id ? this.rawOf.get(seen) : undefined;
    for (;;) {
      const raw = known ?? (await this.store.get(key(id)));
      known = undefined;
      if (raw === null) throw new QrLoginError('qr.not_found');
      const current = this.parse(raw);
      const now = this.clock.now();
      const held = heldByExchange(current, now);
      if (claim !== undefined ? current.exchange?.claim !== claim : held) throw refuse(current);
      if (to !== 'expired' && !held && !TERMINAL.has(current.status) && now >= current.expiresAt) {
        await this.expire(id);
        throw new QrLoginError('qr.expired');
      }
      if (!from.includes(current.status) || !canTransition(current.status, to)) throw refuse(current);
      const { exchange: _done, ...rest } = current;
      const next: QrSessionRecord = {
        ...rest,
        ...patch(current),
        status: to,
        version: current.version + 1,
        updatedAt: now,
      };
      const ttlMs = TERMINAL.has(to) ? QR_RETENTION_MS : Math.max(1, current.expiresAt + QR_RETENTION_MS - now);
      const text = JSON.stringify(next);
      const written = await this.write(id, raw, text, {
        ttlMs,
        publish: { channel: QR_EVENTS_CHANNEL, message: JSON.stringify(qrEvent(next)) },
      });
      if (written) {
        // The sweeper skips finished sessions anyway, and a revoked scanner's list is checked: nobody waits for these.
        if (TERMINAL.has(to)) {
          this.store.unschedule(QR_DUE_SET, id).catch(() => undefined);
          if (next.scanner) this.store.unschedule(scannedBySet(next.scanner.sessionId), id).catch(() => undefined);
        }
        this.rawOf.set(next, text);
        return next;
      }
      // Someone else changed it between our read and our write: look again.
    }
  }

  /**
   * The first step of an exchange: holds the confirmed session for this
   * exchange alone (`exchange.claim`, for `QR_EXCHANGE_LEASE_MS`) while it
   * makes the web session. Invisible from outside (no new version, nothing
   * published: readers still see `confirmed`), so `consumed` is written and
   * announced only once a web session exists (`transition` with the claim),
   * and a failed sign-in lets go (`releaseExchange`) for the browser's retry.
   * Another exchange meanwhile is answered `qr.consumed`, as after it; a lease
   * left by a process that died runs out and the session can be exchanged.
   */
  async claimExchange(
    id: string,
    refuse: TransitionRefusal,
    seen?: QrSessionRecord,
  ): Promise<{ record: QrSessionRecord; claim: string }> {
    let known = seen && seen.id === id ? this.rawOf.get(seen) : undefined;
    const claim = randomUUID();
    for (;;) {
      const raw = known ?? (await this.store.get(key(id)));
      known = undefined;
      if (raw === null) throw new QrLoginError('qr.not_found');
      const current = this.parse(raw);
      const now = this.clock.now();
      if (heldByExchange(current, now)) throw new QrLoginError('qr.consumed');
      if (!TERMINAL.has(current.status) && now >= current.expiresAt) {
        await this.expire(id);
        throw new QrLoginError('qr.expired');
      }
      if (current.status !== 'confirmed') throw refuse(current);
      const held: QrSessionRecord = { ...current, exchange: { claim, until: now + QR_EXCHANGE_LEASE_MS } };
      const text = JSON.stringify(held);
      if (await this.write(id, raw, text, {})) {
        this.rawOf.set(held, text);
        return { record: held, claim };
      }
    }
  }

  /** Lets go of a session `claimExchange` held (its sign-in failed): best effort, the lease ends anyway. */
  async releaseExchange(held: QrSessionRecord): Promise<void> {
    const raw = this.rawOf.get(held);
    if (raw === undefined) return;
    const { exchange: _released, ...rest } = held;
    await this.write(held.id, raw, JSON.stringify(rest), {});
  }

  /**
   * A compare-and-set whose outcome a store failure leaves unknown (a timeout:
   * the write may have happened) is settled by reading the value back: ours
   * (each write is unique: its version and time) means it was written. Only
   * when that read fails too is the caller told the store is unavailable.
   */
  private async write(id: string, expected: string, next: string, options: CompareAndSetOptions): Promise<boolean> {
    try {
      return await this.store.compareAndSet(key(id), expected, next, options);
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      const now = await this.store.get(key(id)).catch(() => {
        throw error;
      });
      if (now === next) return true;
      if (now === expected) throw error; // not written: the caller may try again
      return false; // someone else's write: the caller reads afresh
    }
  }

  /**
   * `listener` is called once for each session this store moved to `expired`,
   * whichever path did it (audit); every listener added is called, each on its
   * own (one that throws does not stop the others). Returns the way to stop.
   */
  onExpired(listener: (record: QrSessionRecord) => void): () => void {
    this.expiredListeners.add(listener);
    return () => this.expiredListeners.delete(listener);
  }

  /** Moves a live session past its expiry to `expired`; null when it is gone or already terminal. */
  async expire(id: string): Promise<QrSessionRecord | null> {
    let expired: QrSessionRecord;
    try {
      expired = await this.transition(
        id,
        ['pending', 'scanned', 'confirmed'],
        'expired',
        () => ({}),
        () => new QrLoginError('qr.wrong_state'),
      );
    } catch (error) {
      if (error instanceof QrLoginError) return null;
      throw error;
    }
    for (const listener of this.expiredListeners) {
      try {
        listener(expired);
      } catch {
        // A listener's failure is its own (the audit never fails a transition): the others still run.
      }
    }
    return expired;
  }

  /**
   * Remembers that the record's scanner (a phone session) holds it, until it
   * finishes: if that session is revoked meanwhile, `takeScannedBy` finds it.
   */
  async indexScanner(record: QrSessionRecord): Promise<void> {
    if (record.scanner) await this.store.schedule(scannedBySet(record.scanner.sessionId), record.id, record.expiresAt);
  }

  /** The ids a phone session scanned that had not finished, each handed to one caller only (any instance). */
  takeScannedBy(sessionId: string): Promise<string[]> {
    return this.store.takeDue(scannedBySet(sessionId), Number.MAX_SAFE_INTEGER, 1_000);
  }

  /**
   * The sweeper's step for one due id: expires it (taking it off the due set);
   * or, finished or gone, takes it off; or, held by an exchange, puts it back
   * for when the hold ends.
   */
  async sweepOne(id: string): Promise<QrSessionRecord | null> {
    const expired = await this.expire(id);
    if (expired) return expired;
    const current = await this.find(id);
    if (current?.exchange && heldByExchange(current, this.clock.now()))
      await this.scheduleAt(id, current.exchange.until);
    else await this.unschedule(id);
    return null;
  }

  /** Puts a session in the due set for the sweeper (at its expiry, or again after a failed sweep). */
  async scheduleAt(id: string, dueAtMs: number): Promise<void> {
    await this.store.schedule(QR_DUE_SET, id, dueAtMs);
  }

  private parse(raw: string): QrSessionRecord {
    const record = JSON.parse(raw) as QrSessionRecord;
    this.rawOf.set(record, raw);
    return record;
  }

  /**
   * Ids due for expiry, each handed to exactly one caller (any instance) and
   * leased to it: they stay in the due set, due again after the lease, until
   * the session finishes (a terminal transition takes it off) or `unschedule`.
   * A sweeper that dies mid-pass thus delays their expiry event, never loses it.
   */
  takeDue(limit: number): Promise<string[]> {
    return this.store.takeDue(QR_DUE_SET, this.clock.now(), limit, QR_SWEEP_LEASE_MS);
  }

  /** Takes a session off the due set (it finished, or is gone). */
  async unschedule(id: string): Promise<void> {
    await this.store.unschedule(QR_DUE_SET, id);
  }
}

/** Whether an exchange holds the session now (a lease that ran out holds nothing). */
function heldByExchange(record: QrSessionRecord, now: number): boolean {
  return record.exchange !== undefined && record.exchange.until > now;
}
