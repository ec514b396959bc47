import { Module, type DynamicModule } from '@nestjs/common';
import { AuditModule } from '../audit/index.js';
import { UsersModule } from '../users/index.js';
import { AuthModule } from '../auth/index.js';

import { AdminAuditEventsModule } from './audit-events/admin-audit-events.module.js';
import { AdminCommonModule } from './common/admin-common.module.js';
import { AdminIdentitiesModule } from './identities/admin-identities.module.js';
import { AdminProvidersModule } from './providers/admin-providers.module.js';
import { AdminQrSessionsModule } from './qr-sessions/admin-qr-sessions.module.js';
import { AdminSessionsModule } from './sessions/admin-sessions.module.js';
import { AdminStatsModule } from './stats/admin-stats.module.js';
import { AdminUsersController } from './users/admin-users.controller.js';
import { AdminUsersService } from './users/admin-users.service.js';

/**
 * The admin REST API (`/api/v1/admin/…`): role `admin`, `auditor` for reads;
 * one folder per resource, the shared list contract, audit helper and
 * recent-sign-in guard in `common/`.
 */
@Module({})
export class AdminModule {
  /** `oauth`: the application's OAuth module, for the providers resource. */
  static forRoot(oauth: DynamicModule): DynamicModule {
    return {
      module: AdminModule,
      imports: [
        UsersModule,
        AuthModule,
        AuditModule,
        AdminCommonModule,
        AdminAuditEventsModule,
        AdminStatsModule,
        AdminSessionsModule,
        AdminQrSessionsModule,
        AdminIdentitiesModule,
        AdminProvidersModule.forRoot(oauth),
      ],
      controllers: [AdminUsersController],
      providers: [AdminUsersService],
    };
  }
}
