import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/index.js';
import { AuthModule } from '../auth/index.js';
import { AllExceptionsFilter } from '../common/index.js';
import { UsersModule } from '../users/index.js';
import { QrApproverWatch } from './qr-approver.watch.js';
import { QrApprovingDevice } from './qr-approving-device.js';
import { QrAuditTrail } from './qr-audit-trail.js';
import { QrEventsHub } from './qr-events.hub.js';
import { QrExpirySweeper } from './qr-expiry.sweeper.js';
import { QrImageRenderer } from './qr-image/qr-image.renderer.js';
import { QrLoginController } from './qr-login.controller.js';
import { QrHistory } from './qr-history.js';
import { QrLoginService } from './qr-login.service.js';
import { QrExchangeService } from './qr-exchange.service.js';
import { QrApproverRevocation } from './qr-approver-revocation.js';
import { QrStatusService } from './qr-status.service.js';
import { QrPollLimits, qrRateLimitProviders } from './qr-rate-limits.js';
import { QrRequesterService } from './qr-requester.service.js';
import { QrSessionStore } from './qr-sessions.store.js';
import { RequesterModule } from '../requester/index.js';

/** QR login with our own app (PROTOCOL.md): state machine, long poll, expiry sweeper. */
@Module({
  imports: [AuthModule, UsersModule, AuditModule, RequesterModule],
  controllers: [QrLoginController],
  providers: [
    QrHistory,
    QrLoginService,
    QrExchangeService,
    QrApproverRevocation,
    QrApprovingDevice,
    QrAuditTrail,
    QrStatusService,
    QrSessionStore,
    QrEventsHub,
    QrExpirySweeper,
    QrApproverWatch,
    QrPollLimits,
    QrRequesterService,
    QrImageRenderer,
    AllExceptionsFilter,
    ...qrRateLimitProviders,
  ],
  exports: [QrLoginService, QrStatusService, QrEventsHub, QrHistory],
})
export class QrLoginModule {}
