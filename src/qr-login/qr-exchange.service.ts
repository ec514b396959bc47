import { Injectable } from '@nestjs/common';
import { AuthService, SessionsService, type ClientContext, type SignedIn } from '../auth/index.js';
import { UsersService } from '../users/index.js';
import { QrApproverRevocation } from './qr-approver-revocation.js';
import { QrAuditTrail } from './qr-audit-trail.js';
import { QrLoginError } from './qr-login.errors.js';
import { qrRef, type QrSessionRecord } from './qr-session.js';
import { QrSessionStore } from './qr-sessions.store.js';
import { QrStatusService } from './qr-status.service.js';

/** The last step of a QR login: the browser's confirmed session becomes its web session. */
@Injectable()
export class QrExchangeService {
  constructor(
    private readonly sessions: QrSessionStore,
    private readonly browsers: QrStatusService,
    private readonly auth: AuthService,
    private readonly users: UsersService,
    private readonly deviceSessions: SessionsService,
    private readonly revocation: QrApproverRevocation,
    private readonly trail: QrAuditTrail,
  ) {}

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
      await this.revocation.cancel(record);
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
}
