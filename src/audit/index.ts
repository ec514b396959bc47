/** The public face of `audit/`: what other modules may import (anything else is internal). */
export { AuditEvent } from './audit-event.entity.js';
export { AuditModule } from './audit.module.js';
export { type AuditInput, AuditService, type AuditType } from './audit.service.js';
export {
  AT_KEY_PATTERN,
  AuditEventDirectory,
  type AuditEventRow,
  type AuditEventsFilter,
  type AuditKey,
} from './audit-event.directory.js';
export { AuditStats, type QrFunnel } from './audit-stats.js';
