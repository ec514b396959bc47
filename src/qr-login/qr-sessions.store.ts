import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock/clock.js';
import { STORE, type Store } from '../store/store.js';
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
  private expiredListener?: (record: QrSessionRecord) => void;
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
   */
  async transition(
    id: string,
    from: readonly QrStatus[],
    to: QrStatus,
    patch: (current: QrSessionRecord) => Partial<QrSessionRecord>,
    refuse: TransitionRefusal,
    seen?: QrSessionRecord,
  ): Promise<QrSessionRecord> {
    let known = seen && seen.id === id ? this.rawOf.get(seen) : undefined;
    for (;;) {
      const raw = known ?? (await this.store.get(key(id)));
      known = undefined;
      if (raw === null) throw new QrLoginError('qr.not_found');
      const current = this.parse(raw);
      const now = this.clock.now();
      if (to !== 'expired' && !TERMINAL.has(current.status) && now >= current.expiresAt) {
        await this.expire(id);
        throw new QrLoginError('qr.expired');
      }
      if (!from.includes(current.status) || !canTransition(current.status, to)) throw refuse(current);
      const next: QrSessionRecord = { ...current, ...patch(current), status: to, version: current.version + 1, updatedAt: now };
      const ttlMs = TERMINAL.has(to) ? QR_RETENTION_MS : Math.max(1, current.expiresAt + QR_RETENTION_MS - now);
      const text = JSON.stringify(next);
      const written = await this.store.compareAndSet(key(id), raw, text, {
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

  /** Called once for each session this store moved to `expired`, whichever path did it (audit). */
  onExpired(listener: (record: QrSessionRecord) => void): void {
    this.expiredListener = listener;
  }

  /** Moves a live session past its expiry to `expired`; null when it is gone or already terminal. */
  async expire(id: string): Promise<QrSessionRecord | null> {
    let expired: QrSessionRecord;
    try {
      expired = await this.transition(id, ['pending', 'scanned', 'confirmed'], 'expired', () => ({}), () => new QrLoginError('qr.wrong_state'));
    } catch (error) {
      if (error instanceof QrLoginError) return null;
      throw error;
    }
    this.expiredListener?.(expired);
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
