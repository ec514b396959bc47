import { Global, Module, type DynamicModule } from '@nestjs/common';
import {
  APP_CONFIG,
  AUTH_CONFIG,
  DATABASE_CONFIG,
  LOG_CONFIG,
  OAUTH_CONFIG,
  QR_CONFIG,
  REALTIME_CONFIG,
  STORE_CONFIG,
  type Config,
} from './config.types.js';

/**
 * Provides the validated configuration, one token per namespace:
 * `@Inject(APP_CONFIG) app: AppConfig`, `@Inject(STORE_CONFIG) store: StoreConfig`, …
 * The configuration is parsed before Nest starts (`loadConfig()` in main.ts, or a
 * test's own `parseConfig({...})`), so a bad value never gets as far as a module.
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: Config): DynamicModule {
    const providers = [
      { provide: APP_CONFIG, useValue: config.app },
      { provide: DATABASE_CONFIG, useValue: config.database },
      { provide: STORE_CONFIG, useValue: config.store },
      { provide: AUTH_CONFIG, useValue: config.auth },
      { provide: QR_CONFIG, useValue: config.qr },
      { provide: REALTIME_CONFIG, useValue: config.realtime },
      { provide: OAUTH_CONFIG, useValue: config.oauth },
      { provide: LOG_CONFIG, useValue: config.log },
    ];
    return { module: ConfigModule, providers, exports: providers.map((p) => p.provide) };
  }
}
