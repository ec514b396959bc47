import { Module, type DynamicModule } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AuditModule } from '../audit/index.js';
import { AuthModule } from '../auth/index.js';
import { AllExceptionsFilter } from '../common/index.js';
import { SandboxesModule } from '../sandboxes/index.js';
import { UsersModule } from '../users/index.js';
import { OAuthCallbackFilter, OAuthController } from './oauth.controller.js';
import { OAuthRegistry } from './oauth.registry.js';
import { OAuthService } from './oauth.service.js';
import { OAuthStateStore } from './oauth-state.store.js';
import { OAuthStrategy } from './oauth.strategy.js';
import { UpstreamHttp } from './upstream.http.js';

/**
 * Third-party QR login: one provider contract, one registry, one Passport
 * strategy, one controller; providers in `providers/<id>/`, their simulators
 * in `src/sandboxes/` (mounted only when `sandboxes` is on).
 */
@Module({})
export class OAuthModule {
  static forRoot(sandboxes: boolean): DynamicModule {
    return {
      module: OAuthModule,
      imports: [AuthModule, UsersModule, AuditModule, PassportModule, SandboxesModule.forRoot(sandboxes)],
      controllers: [OAuthController],
      providers: [
        OAuthService,
        OAuthRegistry,
        OAuthStateStore,
        OAuthStrategy,
        UpstreamHttp,
        OAuthCallbackFilter,
        AllExceptionsFilter,
      ],
      exports: [OAuthRegistry],
    };
  }
}
