import { Module } from '@nestjs/common';
import { RequesterModule } from '../../requester/index.js';
import { AdminCommonModule } from '../common/admin-common.module.js';
import { AdminQrSessionsController } from './admin-qr-sessions.controller.js';
import { AdminQrSessionsRepository } from './admin-qr-sessions.repository.js';
import { AdminQrSessionsService } from './admin-qr-sessions.service.js';

/** QR sessions: live counts by state, recent ones with requester context (`/api/v1/admin/…`). */
@Module({
  imports: [AdminCommonModule, RequesterModule],
  controllers: [AdminQrSessionsController],
  providers: [AdminQrSessionsService, AdminQrSessionsRepository],
})
export class AdminQrSessionsModule {}
