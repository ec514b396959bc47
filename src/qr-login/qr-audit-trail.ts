import { Injectable, Logger } from '@nestjs/common';
import { AuditService, type AuditInput } from '../audit/index.js';

/**
 * The QR login's audit events (`qr.*`, each naming its session by `qrRef`,
 * which QrHistory reads back). Written without ever blocking or breaking the
 * transition that already happened: a failed write is a warning.
 */
@Injectable()
export class QrAuditTrail {
  private readonly logger = new Logger('QrLogin');

  constructor(private readonly audit: AuditService) {}

  record(input: AuditInput): void {
    this.audit
      .record(input)
      .catch((error: unknown) =>
        this.logger.warn(`Audit event ${input.type} not written: ${(error as Error).message}`),
      );
  }
}
