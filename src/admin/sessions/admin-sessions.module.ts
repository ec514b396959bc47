import { Module } from '@nestjs/common';
import { RequesterModule } from '../../requester/index.js';
import { AdminCommonModule } from '../common/admin-common.module.js';
import { AdminSessionsController } from './admin-sessions.controller.js';
import { AdminSessionsService } from './admin-sessions.service.js';

/** Sessions: a user's and everyone's; revoke one or all (`/api/v1/admin/…`). */
@Module({
  imports: [AdminCommonModule, RequesterModule],
  controllers: [AdminSessionsController],
  providers: [AdminSessionsService],
})
export class AdminSessionsModule {}
