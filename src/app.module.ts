import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AdminModule } from './admin/admin.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { BootstrapModule } from './bootstrap/bootstrap.module.js';
import { ClockModule } from './common/clock/clock.module.js';
import { CryptoModule } from './common/crypto/crypto.module.js';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter.js';
import { createValidationPipe } from './common/http/validation.pipe.js';
import { ConfigModule } from './config/config.module.js';
import type { Config } from './config/config.types.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthModule } from './health/health.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { QrLoginModule } from './qr-login/qr-login.module.js';
import { RealtimeModule } from './realtime/realtime.module.js';
import { OAuthModule } from './oauth/oauth.module.js';
import { PagesModule } from './pages/pages.module.js';
import { RateLimitModule } from './rate-limit/rate-limit.module.js';
import { StoreModule } from './store/store.module.js';
import { UsersModule } from './users/users.module.js';

/**
 * The application: infrastructure modules (config, logging, clock, database,
 * store) and the feature modules. Built from a configuration that was
 * validated before Nest started (`loadConfig()` in main.ts, `testConfig()` in tests).
 */
@Module({})
export class AppModule {
  static forRoot(config: Config): DynamicModule {
    const oauth = OAuthModule.forRoot(config.oauth.sandboxes);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule,
        ClockModule,
        CryptoModule,
        DatabaseModule,
        StoreModule,
        RateLimitModule,
        HealthModule,
        MetricsModule,
        UsersModule,
        AuditModule,
        AuthModule,
        AdminModule.forRoot(oauth),
        QrLoginModule,
        RealtimeModule,
        oauth,
        PagesModule.forRoot(oauth),
        BootstrapModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
      ],
    };
  }
}
