import { Module } from '@nestjs/common';
import { QrLoginModule } from '../../qr-login/index.js';
import { RequesterModule } from '../../requester/index.js';
import { AdminCommonModule } from '../common/admin-common.module.js';
import { AdminQrSessionsController } from './admin-qr-sessions.controller.js';
import { AdminQrSessionsService } from './admin-qr-sessions.service.js';

/** QR sessions: live counts by state, recent ones with requester context (`/api/v1/admin/…`). */
@Module({
  imports: [AdminCommonModule, RequesterModule, QrLoginModule],
  controllers: [AdminQrSessionsController],
  providers: [AdminQrSessionsService],
})
export class AdminQrSessionsModule {}
