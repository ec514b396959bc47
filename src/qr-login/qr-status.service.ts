import { Injectable } from '@nestjs/common';
import type { ClientContext } from '../auth/index.js';
import { Clock, CryptoService } from '../common/index.js';
import { QrEventsHub } from './qr-events.hub.js';
import { QrLoginError } from './qr-login.errors.js';
import { QrPollLimits } from './qr-rate-limits.js';
import { statusView, TERMINAL, type QrSessionRecord, type QrStatusView } from './qr-session.js';
import { QrSessionStore } from './qr-sessions.store.js';

const POLL_INTERVAL_MS = 1_000;
/** Above this many waiting requests on one instance, browsers are asked to poll less often. */
const BUSY_WAITERS = 5_000;

/** Where an HTTP status poll comes from (it is rate-limited; socket handshakes are counted apart). */
export type PollOrigin = Pick<ClientContext, 'ip'>;

/**
 * What the browser holding the poll token reads while it waits: the status,
 * the long poll, the advised poll interval, and the token check every
 * browser-side route shares (the exchange too). Reads only: transitions are
 * `QrLoginService`'s.
 */
@Injectable()
export class QrStatusService {
  constructor(
    private readonly sessions: QrSessionStore,
    private readonly hub: QrEventsHub,
    private readonly crypto: CryptoService,
    private readonly clock: Clock,
    private readonly pollLimits: QrPollLimits,
  ) {}

  /**
   * The status for the browser holding the poll token. With `poll` (the HTTP
   * route), the request is counted: see `authorizedRecord`. The long poll is `listen`.
   */
  async status(id: string, pollToken: string | undefined, poll?: PollOrigin): Promise<QrStatusView> {
    return statusView(await this.authorizedRecord(id, pollToken, poll));
  }

  /**
   * The long poll, callback style (see QrEventsHub.listen): checks the token
   * (throwing as `status` does), then calls `onDone` once with the status —
   * at once if the version is already past `afterVersion`, else at the next
   * change or when the wait ends — or with an error. Returns a cancel function.
   */
  async listen(
    id: string,
    pollToken: string | undefined,
    afterVersion: number,
    seconds: number,
    onDone: (outcome: QrStatusView | Error) => void,
    poll?: PollOrigin,
  ): Promise<() => void> {
    const record = await this.authorizedRecord(id, pollToken, poll);
    if (record.version > afterVersion || TERMINAL.has(record.status)) {
      onDone(statusView(record));
      return () => undefined;
    }
    const untilExpiry = Math.max(0, record.expiresAt - this.clock.now());
    return this.hub.listen(id, afterVersion, Math.min(seconds * 1000, untilExpiry + 1_500), (event) => {
      if (event) return onDone(event);
      this.sessions.read(id).then(
        (now) => onDone(statusView(now ?? record)),
        (error: unknown) => onDone(error instanceof Error ? error : new Error(String(error))),
      );
    });
  }

  pollIntervalMs(): number {
    return this.hub.waiting > BUSY_WAITERS ? POLL_INTERVAL_MS * 2 : POLL_INTERVAL_MS;
  }

  /**
   * The record if the poll token is its own; otherwise exactly as if the id did
   * not exist. With `poll` (an HTTP status request), the request is counted
   * after the check: against the session when the token is right, against the
   * caller's IP when not (see `QrPollLimits`).
   */
  async authorizedRecord(id: string, pollToken: string | undefined, poll?: PollOrigin): Promise<QrSessionRecord> {
    const presented = this.crypto.sha256(pollToken ?? '');
    const record = await this.sessions.read(id);
    const stored = record ? Buffer.from(record.pollTokenHash, 'base64url') : this.crypto.sha256('\u0000');
    if (!this.crypto.equal(presented, stored) || !record || !pollToken) {
      if (poll) await this.pollLimits.refused(poll.ip);
      throw new QrLoginError('qr.not_found');
    }
    if (poll) await this.pollLimits.admitted(id);
    return record;
  }
}
