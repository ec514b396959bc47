/** The public face of `audit/`: what other modules may import (anything else is internal). */
export { AuditEvent } from './audit-event.entity.js';
export { AuditModule } from './audit.module.js';
export { type AuditInput, AuditService, type AuditType } from './audit.service.js';
