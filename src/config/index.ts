/** The public face of `config/`: what other modules may import (anything else is internal). */
export { ConfigError, loadConfig } from './config.loader.js';
export { ConfigModule } from './config.module.js';
export {
  APP_CONFIG,
  AUTH_CONFIG,
  type AlipaySettings,
  type AppConfig,
  type AuthConfig,
  type Config,
  DATABASE_CONFIG,
  type DatabaseConfig,
  type DingtalkSettings,
  LOG_CONFIG,
  type LogConfig,
  OAUTH_CONFIG,
  type OAuthConfig,
  type OAuthProviderId,
  QR_CONFIG,
  type QrConfig,
  REALTIME_CONFIG,
  type RealtimeConfig,
  STORE_CONFIG,
  type StoreConfig,
  type WechatSettings,
} from './config.types.js';
