import { Module } from '@nestjs/common';
import { AuditModule } from '../../audit/index.js';
import { AuthModule } from '../../auth/index.js';
import { AdminAudit } from './admin-audit.js';
import { adminRateLimitProvider, ADMIN_LIMITS } from './admin-route.js';
import { RecentSignInGuard } from './recent-sign-in.guard.js';

/** What every admin resource shares: the audit trail helper, the recent-sign-in guard, the per-admin rate limit. */
@Module({
  imports: [AuthModule, AuditModule],
  providers: [AdminAudit, RecentSignInGuard, adminRateLimitProvider],
  exports: [AdminAudit, RecentSignInGuard, ADMIN_LIMITS, AuthModule, AuditModule],
})
export class AdminCommonModule {}
