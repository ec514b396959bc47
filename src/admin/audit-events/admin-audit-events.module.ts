import { Module } from '@nestjs/common';
import { AdminCommonModule } from '../common/admin-common.module.js';

/** Audit events: list, filter, NDJSON export (`/api/v1/admin/…`). */
@Module({
  imports: [AdminCommonModule],
  controllers: [],
  providers: [],
})
export class AdminAuditEventsModule {}
