import { Module } from '@nestjs/common';
import { AuditModule } from '../../audit/audit.module.js';
import { AuthModule } from '../../auth/auth.module.js';
import { AdminAudit } from './admin-audit.js';
import { RecentSignInGuard } from './recent-sign-in.guard.js';

/** What every admin resource shares: the audit trail helper and the recent-sign-in guard. */
@Module({
  imports: [AuthModule, AuditModule],
  providers: [AdminAudit, RecentSignInGuard],
  exports: [AdminAudit, RecentSignInGuard, AuthModule, AuditModule],
})
export class AdminCommonModule {}
