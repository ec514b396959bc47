import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditEvent } from './audit-event.entity.js';
import { AuditEventsRepository } from './audit-events.repository.js';
import { AuditEventDirectory } from './audit-event.directory.js';
import { AuditStats } from './audit-stats.js';
import { AuditService } from './audit.service.js';

/** The audit trail (table `audit_events`). */
@Module({
  // Registers the entity with the app's data source (its schema is checked against the migrations).
  imports: [TypeOrmModule.forFeature([AuditEvent])],
  providers: [AuditService, AuditEventsRepository, AuditEventDirectory, AuditStats],
  exports: [AuditService, AuditEventDirectory, AuditStats],
})
export class AuditModule {}
