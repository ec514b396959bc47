import { Injectable } from '@nestjs/common';
import { QrAuditTrail } from './qr-audit-trail.js';
import { QrLoginError } from './qr-login.errors.js';
import { qrRef, type QrSessionRecord } from './qr-session.js';
import { QrSessionStore } from './qr-sessions.store.js';

/**
 * An approval is only as good as the phone session that gave it: when that
 * session is revoked, the QR logins it scanned or confirmed and that were not
 * exchanged yet are cancelled (`QrApproverWatch` on the event, the exchange
 * itself when it finds the approver revoked).
 */
@Injectable()
export class QrApproverRevocation {
  constructor(
    private readonly sessions: QrSessionStore,
    private readonly trail: QrAuditTrail,
  ) {}

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
      if (record?.scanner?.sessionId === scannerSessionId && (await this.cancel(record))) cancelled++;
    }
    return cancelled;
  }

  /** `scanned|confirmed → cancelled` because the approving phone's session is gone; false when it had moved on. */
  async cancel(record: QrSessionRecord): Promise<boolean> {
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
}
