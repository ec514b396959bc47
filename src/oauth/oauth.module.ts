import { Module, type DynamicModule } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AuditModule } from '../audit/index.js';
import { AuthModule } from '../auth/index.js';
import { AllExceptionsFilter } from '../common/index.js';
import { UsersModule } from '../users/index.js';
import { OAuthCallbackFilter, OAuthController } from './oauth.controller.js';
import { OAuthRegistry, PROVIDER_DEFINITIONS, PROVIDERS } from './oauth.registry.js';
import { OAuthService } from './oauth.service.js';
import { OAuthStateStore } from './oauth-state.store.js';
import { OAuthStrategy } from './oauth.strategy.js';
import { UpstreamHttp } from './upstream.http.js';

/**
 * Third-party QR login: one provider contract, one registry, one Passport
 * strategy, one controller; providers in `providers/<id>/`. Settings for
 * providers without credentials are plugged in from outside
 * (`PLUGGED_PROVIDER_SETTINGS`: the sandboxes, which this module never imports).
 */
@Module({})
export class OAuthModule {
  static forRoot(): DynamicModule {
    return {
      module: OAuthModule,
      imports: [AuthModule, UsersModule, AuditModule, PassportModule],
      controllers: [OAuthController],
      providers: [
        OAuthService,
        OAuthRegistry,
        { provide: PROVIDER_DEFINITIONS, useValue: PROVIDERS },
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
