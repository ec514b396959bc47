import { Module } from '@nestjs/common';
import { AdminCommonModule } from '../common/admin-common.module.js';

/** QR sessions: live counts by state, recent ones with requester context (`/api/v1/admin/…`). */
@Module({
  imports: [AdminCommonModule],
  controllers: [],
  providers: [],
})
export class AdminQrSessionsModule {}
