import { Module } from '@nestjs/common';
import { AdminCommonModule } from '../common/admin-common.module.js';

/** A user's identities: list, unlink (`/api/v1/admin/…`). */
@Module({
  imports: [AdminCommonModule],
  controllers: [],
  providers: [],
})
export class AdminIdentitiesModule {}
