import { Module } from '@nestjs/common';
import { UsersModule } from '../../users/index.js';
import { AdminCommonModule } from '../common/admin-common.module.js';
import { AdminIdentitiesController } from './admin-identities.controller.js';
import { AdminIdentitiesService } from './admin-identities.service.js';

/** A user's identities: list, unlink (`/api/v1/admin/…`). */
@Module({
  imports: [AdminCommonModule, UsersModule],
  controllers: [AdminIdentitiesController],
  providers: [AdminIdentitiesService],
})
export class AdminIdentitiesModule {}
