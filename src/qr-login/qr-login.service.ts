import { Inject, Injectable } from '@nestjs/common';
import {
  type Principal,
  AuthService,
  type SignedIn,
  AuthError,
  SessionsService,
  type ClientContext,
} from '../auth/index.js';

import { Clock, CryptoService, ValidationError, safeReturnTo } from '../common/index.js';

import { APP_CONFIG, QR_CONFIG, type AppConfig, type QrConfig } from '../config/index.js';
import { UsersService } from '../users/index.js';
import { QrApprovingDevice } from './qr-approving-device.js';
import { QrAuditTrail } from './qr-audit-trail.js';
import { QrLoginError } from './qr-login.errors.js';
import { QrRequesterService, type Risk } from './qr-requester.service.js';
import type { CreatedQrSession } from '@scangate/protocol';
import { qrRef, TERMINAL, type QrSessionRecord, type Requester } from './qr-session.js';
import { QrSessionStore } from './qr-sessions.store.js';
import { QrStatusService } from './qr-status.service.js';

export type { CreatedQrSession } from '@scangate/protocol';

export interface ScanAnswer {
  id: string;
  status: 'scanned';
  expiresAt: string;
  requester: Omit<Requester, 'asn' | 'country'>;
  risk: Risk;
  matchCodeChoices?: string[];
}

/**
 * QR login with our own app: the browser creates a session and waits; the
 * signed-in phone scans, sees who asks, and confirms (or declines); the
 * browser exchanges the confirmed session for a web session. Every change is a
 * transition of `QrSessionStore` (one compare-and-set each). What the browser
 * reads while it waits (status, long poll) is `QrStatusService`; the expiry
 * sweep is `QrExpirySweeper`; the history rebuilt from the audit trail is `QrHistory`.
 */
@Injectable()
export class QrLoginService {
  constructor(
    private readonly sessions: QrSessionStore,
    private readonly browsers: QrStatusService,
    private readonly requesters: QrRequesterService,
    private readonly crypto: CryptoService,
    private readonly clock: Clock,
    private readonly auth: AuthService,
    private readonly users: UsersService,
    private readonly deviceSessions: SessionsService,
    private readonly device: QrApprovingDevice,
    private readonly trail: QrAuditTrail,
    @Inject(QR_CONFIG) private readonly config: QrConfig,
    @Inject(APP_CONFIG) private readonly app: AppConfig,
  ) {
    this.sessions.onExpired((record) =>
      this.trail.record({
        type: 'qr.expired',
        userId: record.scanner?.userId ?? null,
        ip: record.requester.ip,
        detail: { qr: qrRef(record.id), scanned: record.scanner !== null },
      }),
    );
  }

  async create(returnTo: string | undefined, context: ClientContext): Promise<CreatedQrSession> {
    const now = this.clock.now();
    const id = this.crypto.randomToken(32);
    const pollToken = this.crypto.randomToken(32);
    const matchChoices = this.config.numberMatching ? this.matchChoices() : null;
    const record: QrSessionRecord = {
      id,
      pollTokenHash: this.crypto.sha256(pollToken).toString('base64url'),
      status: 'pending',
      version: 1,
      createdAt: now,
      expiresAt: now + this.config.ttlSeconds * 1000,
      updatedAt: now,
      returnTo: this.validReturnTo(returnTo),
      matchCode: matchChoices?.[this.crypto.randomInt(matchChoices.length)] ?? null,
      matchChoices,
      requester: await this.requesters.describe(context.ip, context.userAgent, new Date(now)),
      scanner: null,
    };
    // Both commands leave in one write to the store (auto-pipelined).
    await Promise.all([this.sessions.create(record), this.sessions.scheduleAt(record.id, record.expiresAt)]);
    this.trail.record({ type: 'qr.created', ...context, detail: { qr: qrRef(id) } });
    const base = `/api/v1/qr-sessions/${id}`;
    return {
      id,
      pollToken,
      status: 'pending',
      version: record.version,
      qrContent: `${this.app.publicUrl}/m/qr/${id}`,
      qrImage: { svg: `${base}/qr.svg`, png: `${base}/qr.png` },
      expiresAt: new Date(record.expiresAt).toISOString(),
      pollIntervalMs: this.browsers.pollIntervalMs(),
      ...(record.matchCode ? { matchCode: record.matchCode } : {}),
    };
  }

  /** The content a QR image encodes: only for sessions that exist (public, no token needed). */
  async qrContent(id: string): Promise<string> {
    const record = await this.sessions.find(id);
    if (!record) throw new QrLoginError('qr.not_found');
    return `${this.app.publicUrl}/m/qr/${id}`;
  }

  /**
   * The phone scans: first scanner wins; the same device scanning again gets
   * the same answer. A device with a key signs `scangate:scan:<id>`, so a
   * stolen access token alone cannot claim codes.
   */
  async scan(
    principal: Principal,
    id: string,
    signature: string | undefined,
    context: ClientContext,
  ): Promise<ScanAnswer> {
    await this.device.assertMayApprove(principal);
    await this.device.verify(principal, `scangate:scan:${id}`, signature);
    const existing = await this.sessions.read(id);
    if (!existing) throw new QrLoginError('qr.not_found');
    // The same phone again (a retry after a failure it saw): the answer again, and the scanner index made sure.
    if (this.scannedBy(existing, principal)) {
      await this.sessions.indexScanner(existing);
      return this.scanAnswer(existing);
    }
    let scanned: QrSessionRecord;
    try {
      scanned = await this.sessions.transition(
        id,
        ['pending'],
        'scanned',
        () => ({
          scanner: {
            userId: principal.userId,
            sessionId: principal.sessionId,
            deviceId: principal.deviceId!,
            ip: context.ip,
            scannedAt: new Date(this.clock.now()).toISOString(),
          },
        }),
        (current) => this.refusal(current, principal, 'qr.already_scanned'),
        existing,
      );
    } catch (error) {
      // The same phone scanning twice at once: the loser gets the winner's answer.
      const again = error instanceof QrLoginError ? await this.sessions.read(id) : null;
      if (again && this.scannedBy(again, principal)) return this.scanAnswer(again);
      throw error;
    }
    // Recorded as soon as the transition is done: a failure of the index below must not lose the row
    // (the phone's retry takes the branch above, which indexes again but records nothing).
    this.trail.record({
      type: 'qr.scanned',
      actorId: principal.userId,
      userId: principal.userId,
      sessionId: principal.sessionId,
      ...context,
      detail: { qr: qrRef(id), requesterIp: scanned.requester.ip },
    });
    await this.sessions.indexScanner(scanned);
    return this.scanAnswer(scanned);
  }

  /**
   * The scanning user and device confirm. A device that registered a key must
   * sign `scangate:confirm:<id>:<matchCode>`; a wrong number cancels the login.
   */
  async confirm(
    principal: Principal,
    id: string,
    matchCode: string | undefined,
    signature: string | undefined,
    context: ClientContext,
  ): Promise<void> {
    const record = await this.sessions.read(id);
    if (!record) throw new QrLoginError('qr.not_found');
    this.assertScanner(record, principal);
    await this.device.verify(principal, `scangate:confirm:${id}:${matchCode ?? ''}`, signature);
    if (record.matchCode && matchCode !== record.matchCode) {
      await this.scannerStep(record, principal, context, 'cancelled', 'match_mismatch');
      throw new QrLoginError('qr.match_mismatch');
    }
    await this.scannerStep(record, principal, context, 'confirmed');
  }

  /** The scanning user and device decline. */
  async cancel(principal: Principal, id: string, context: ClientContext): Promise<void> {
    const record = await this.sessions.read(id);
    if (!record) throw new QrLoginError('qr.not_found');
    this.assertScanner(record, principal);
    await this.scannerStep(record, principal, context, 'cancelled', 'declined');
  }

  /**
   * The scanner's own step from `scanned` (confirm, or cancel with `reason`):
   * one transition, then its audit event.
   */
  private async scannerStep(
    record: QrSessionRecord,
    principal: Principal,
    context: ClientContext,
    to: 'confirmed' | 'cancelled',
    reason?: 'match_mismatch' | 'declined',
  ): Promise<void> {
    await this.sessions.transition(
      record.id,
      ['scanned'],
      to,
      () => (reason ? { cancelReason: reason } : {}),
      (current) => this.refusal(current, principal, 'qr.wrong_state'),
      record,
    );
    this.trail.record({
      type: to === 'confirmed' ? 'qr.confirmed' : 'qr.cancelled',
      actorId: principal.userId,
      userId: principal.userId,
      sessionId: principal.sessionId,
      ...context,
      detail: { qr: qrRef(record.id), ...(reason ? { reason } : {}) },
    });
  }

  /**
   * The browser that created the session turns a confirmed one into a web
   * session: `confirmed → consumed` is one compare-and-set, so of any number of
   * parallel calls exactly one gets here; the others get `qr.consumed`. The
   * session is first held for this exchange (`claimExchange`), and becomes
   * `consumed` only once the web session exists: if that cannot be made (the
   * database is down: `503 store.unavailable`), the hold is let go and the
   * browser's retry finishes the login. The approval is only as good as the
   * phone session that gave it: if that session was revoked since (signed
   * out, replaced, its user disabled), the login is cancelled instead
   * (`qr.wrong_state`, the browser sees `cancelled`).
   */
  async exchange(
    id: string,
    pollToken: string | undefined,
    context: ClientContext,
  ): Promise<SignedIn & { returnTo: string | null }> {
    const record = await this.browsers.authorizedRecord(id, pollToken);
    if (record.status === 'confirmed' && (await this.deviceSessions.isRevoked(record.scanner!.sessionId))) {
      await this.cancelForRevokedApprover(record);
      throw new QrLoginError('qr.wrong_state');
    }
    const refuse = (current: QrSessionRecord) =>
      new QrLoginError(
        current.status === 'consumed' || current.exchange
          ? 'qr.consumed'
          : current.status === 'expired'
            ? 'qr.expired'
            : 'qr.wrong_state',
      );
    // Held for this exchange alone while the web session is made; `consumed` only once it exists.
    const { record: held, claim } = await this.sessions.claimExchange(id, refuse, record);
    const scanner = held.scanner!;
    let signedIn: SignedIn;
    try {
      signedIn = await this.auth.signIn(await this.users.get(scanner.userId), 'web', 'qr', context);
    } catch (error) {
      // Nobody was signed in (the database failed, the user was disabled): let go, for the browser's retry.
      await this.sessions.releaseExchange(held).catch(() => undefined);
      throw error;
    }
    let consumed: QrSessionRecord;
    try {
      consumed = await this.sessions.transition(
        id,
        ['confirmed'],
        'consumed',
        () => ({ webSessionId: signedIn.session.id }),
        refuse,
        held,
        claim,
      );
    } catch (error) {
      // The store failed, or the hold ran out and another exchange took over: this web session, whose
      // tokens nobody received, must not stand (ended in the database even while the store is down).
      await this.deviceSessions.discard(signedIn.session.id, 'exchange_failed').catch(() => undefined);
      throw error;
    }
    this.trail.record({
      type: 'qr.consumed',
      actorId: scanner.userId,
      userId: scanner.userId,
      sessionId: signedIn.session.id,
      ...context,
      detail: { qr: qrRef(id), approvedBy: scanner.sessionId, approverIp: scanner.ip },
    });
    return { ...signedIn, returnTo: consumed.returnTo };
  }

  /**
   * Moves up to `limit` due sessions to `expired` (the sweeper calls this on
   * any instance); returns how many ids it took, expired or already finished.
   */
  async expireDue(limit: number): Promise<number> {
    const due = await this.sessions.takeDue(limit);
    for (const [i, id] of due.entries()) {
      try {
        await this.sessions.sweepOne(id);
      } catch (error) {
        // Not expired yet: put this one and the rest back, due now, for the next pass.
        await Promise.all(due.slice(i).map((rest) => this.sessions.scheduleAt(rest, this.clock.now()))).catch(
          () => undefined,
        );
        throw error;
      }
    }
    return due.length;
  }

  /**
   * Cancels the live QR logins a revoked phone session scanned or approved
   * (`session.revoked`, from any instance). Each id is handed to one caller
   * only, so of all instances hearing the event one does the work.
   */
  async cancelApprovedBy(scannerSessionId: string): Promise<number> {
    const ids = await this.sessions.takeScannedBy(scannerSessionId);
    let cancelled = 0;
    for (const id of ids) {
      const record = await this.sessions.read(id);
      if (record?.scanner?.sessionId === scannerSessionId && (await this.cancelForRevokedApprover(record))) cancelled++;
    }
    return cancelled;
  }

  /** `scanned|confirmed → cancelled` because the approving phone's session is gone; false when it had moved on. */
  private async cancelForRevokedApprover(record: QrSessionRecord): Promise<boolean> {
    try {
      await this.sessions.transition(
        record.id,
        ['scanned', 'confirmed'],
        'cancelled',
        () => ({ cancelReason: 'approver_revoked' }),
        () => new QrLoginError('qr.wrong_state'),
        record,
      );
    } catch (error) {
      if (error instanceof QrLoginError) return false;
      throw error;
    }
    const scanner = record.scanner!;
    this.trail.record({
      type: 'qr.cancelled',
      userId: scanner.userId,
      sessionId: scanner.sessionId,
      ip: null,
      detail: { qr: qrRef(record.id), reason: 'approver_revoked' },
    });
    return true;
  }

  /** Whether this phone (session) is the live session's scanner. */
  private scannedBy(record: QrSessionRecord, principal: Principal): boolean {
    return record.scanner?.sessionId === principal.sessionId && !TERMINAL.has(record.status);
  }

  private assertScanner(record: QrSessionRecord, principal: Principal): void {
    if (principal.kind !== 'mobile')
      throw new AuthError('auth.forbidden', 'Only a signed-in phone (a mobile device session) can do this.');
    if (!record.scanner) throw new QrLoginError(record.status === 'expired' ? 'qr.expired' : 'qr.wrong_state');
    if (record.scanner.userId !== principal.userId || record.scanner.sessionId !== principal.sessionId)
      throw new QrLoginError('qr.not_scanner');
  }

  /**
   * Why a transition from `current` is refused, for the phone: `otherScanner`
   * is the code when another phone holds the session (`qr.already_scanned` at
   * scan; confirm and cancel check the scanner before and so get `wrong_state`).
   */
  private refusal(
    current: QrSessionRecord,
    principal: Principal,
    otherScanner: 'qr.already_scanned' | 'qr.wrong_state',
  ): QrLoginError {
    if (current.status === 'expired') return new QrLoginError('qr.expired');
    if (current.status === 'consumed') return new QrLoginError('qr.consumed');
    if (current.scanner && current.scanner.sessionId !== principal.sessionId && current.status !== 'cancelled') {
      return new QrLoginError(otherScanner);
    }
    return new QrLoginError('qr.wrong_state');
  }

  private async scanAnswer(record: QrSessionRecord): Promise<ScanAnswer> {
    const { asn: _asn, country: _country, ...requester } = record.requester;
    return {
      id: record.id,
      status: 'scanned',
      expiresAt: new Date(record.expiresAt).toISOString(),
      requester,
      risk: await this.requesters.risk(record.requester, record.scanner?.ip ?? null),
      ...(record.matchChoices ? { matchCodeChoices: record.matchChoices } : {}),
    };
  }

  /** Three distinct 2-digit numbers, shuffled; one of them is shown in the browser. */
  private matchChoices(): string[] {
    const choices = new Set<string>();
    while (choices.size < 3) choices.add(String(this.crypto.randomInt(100)).padStart(2, '0'));
    return [...choices];
  }

  /** A same-origin path, or a URL on an allowed origin; anything else is refused. */
  private validReturnTo(returnTo: string | undefined): string | null {
    if (returnTo === undefined) return null;
    const safe = safeReturnTo(returnTo, this.app);
    if (safe === null)
      throw new ValidationError([
        { path: 'returnTo', message: 'must be a path on this site or a URL on an allowed origin' },
      ]);
    return safe;
  }
}
