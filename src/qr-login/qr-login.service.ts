import { Inject, Injectable } from '@nestjs/common';
import { type Principal, AuthError, type ClientContext } from '../auth/index.js';

import { Clock, CryptoService, ValidationError, safeReturnTo } from '../common/index.js';

import { APP_CONFIG, QR_CONFIG, type AppConfig, type QrConfig } from '../config/index.js';
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
 * transition of `QrSessionStore` (one compare-and-set each). This service is
 * the browser's creation and the phone's steps; what the browser reads while
 * it waits (status, long poll) is `QrStatusService`, its exchange for a web
 * session `QrExchangeService`; the expiry sweep is `QrExpirySweeper`; a
 * revoked phone's approvals are withdrawn by `QrApproverRevocation`; the
 * history rebuilt from the audit trail is `QrHistory`.
 */
@Injectable()
export class QrLoginService {
  constructor(
    private readonly sessions: QrSessionStore,
    private readonly browsers: QrStatusService,
    private readonly requesters: QrRequesterService,
    private readonly crypto: CryptoService,
    private readonly clock: Clock,
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
