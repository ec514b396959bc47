import { Module } from '@nestjs/common';
import { AdminCommonModule } from '../common/admin-common.module.js';

/** Statistics: logins per method and outcome, the QR funnel (`/api/v1/admin/…`). */
@Module({
  imports: [AdminCommonModule],
  controllers: [],
  providers: [],
})
export class AdminStatsModule {}
