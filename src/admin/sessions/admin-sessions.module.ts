import { Module } from '@nestjs/common';
import { AdminCommonModule } from '../common/admin-common.module.js';

/** Sessions: a user's and everyone's; revoke one or all (`/api/v1/admin/…`). */
@Module({
  imports: [AdminCommonModule],
  controllers: [],
  providers: [],
})
export class AdminSessionsModule {}
