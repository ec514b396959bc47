import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AdminModule } from './admin/index.js';
import { AuditModule } from './audit/index.js';
import { AuthModule } from './auth/index.js';
import { BootstrapModule } from './bootstrap/index.js';
import { ClockModule, CryptoModule, AllExceptionsFilter, createValidationPipe } from './common/index.js';

import { ConfigModule, type Config } from './config/index.js';

import { DatabaseModule } from './database/index.js';
import { HealthModule } from './health/index.js';
import { LoggingModule } from './logging/index.js';
import { MetricsModule } from './metrics/index.js';
import { QrLoginModule } from './qr-login/index.js';
import { RealtimeModule } from './realtime/index.js';
import { OAuthModule } from './oauth/index.js';
import { PagesModule } from './pages/index.js';
import { RateLimitModule } from './rate-limit/index.js';
import { SandboxesModule } from './sandboxes/index.js';
import { StoreModule } from './store/index.js';
import { UsersModule } from './users/index.js';

/**
 * The application: infrastructure modules (config, logging, clock, database,
 * store) and the feature modules. Built from a configuration that was
 * validated before Nest started (`loadConfig()` in main.ts, `testConfig()` in tests).
 */
@Module({})
export class AppModule {
  static forRoot(config: Config): DynamicModule {
    const oauth = OAuthModule.forRoot();
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
        // Development only: plugs the provider simulators' settings into oauth (which never imports them).
        SandboxesModule.forRoot(config.oauth.sandboxes),
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
