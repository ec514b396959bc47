import { Module } from '@nestjs/common';
import { AdminCommonModule } from '../common/admin-common.module.js';
import { AdminAuditEventsController } from './admin-audit-events.controller.js';
import {
  AdminAuditEventsService,
  AUDIT_EXPORT_BATCH,
  DEFAULT_AUDIT_EXPORT_BATCH,
} from './admin-audit-events.service.js';

/** Audit events: list, filter, NDJSON export (`/api/v1/admin/…`). */
@Module({
  imports: [AdminCommonModule],
  controllers: [AdminAuditEventsController],
  providers: [AdminAuditEventsService, { provide: AUDIT_EXPORT_BATCH, useValue: DEFAULT_AUDIT_EXPORT_BATCH }],
})
export class AdminAuditEventsModule {}
