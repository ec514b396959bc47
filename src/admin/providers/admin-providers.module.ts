import { Module, type DynamicModule } from '@nestjs/common';
import { AdminCommonModule } from '../common/admin-common.module.js';
import { AdminProvidersController } from './admin-providers.controller.js';
import { AdminProvidersService } from './admin-providers.service.js';

/**
 * Providers: configuration (secrets masked) and a live credential check
 * (`/api/v1/admin/providers`). Takes the application's OAuth module (its
 * registry) rather than building a second one.
 */
@Module({})
export class AdminProvidersModule {
  static forRoot(oauth: DynamicModule): DynamicModule {
    return {
      module: AdminProvidersModule,
      imports: [AdminCommonModule, oauth],
      controllers: [AdminProvidersController],
      providers: [AdminProvidersService],
    };
  }
}
