/** The public face of `config/`: what other modules may import (anything else is internal). */
export { ConfigError, loadConfig } from './config.loader.js';
export { ConfigModule } from './config.module.js';
export {
  APP_CONFIG,
  AUTH_CONFIG,
  type AppConfig,
  type AuthConfig,
  type Config,
  DATABASE_CONFIG,
  type DatabaseConfig,
  LOG_CONFIG,
  type LogConfig,
  OAUTH_CONFIG,
  type OAuthConfig,
  QR_CONFIG,
  type QrConfig,
  REALTIME_CONFIG,
  type RealtimeConfig,
  STORE_CONFIG,
  type StoreConfig,
} from './config.types.js';
export {
  PROVIDER_ENV,
  type AlipaySettings,
  type DingtalkSettings,
  type OAuthProviderId,
  type ProviderEnv,
  type ProviderEnvTable,
  type ProviderSettingsById,
  type WechatSettings,
} from './oauth-providers.env.js';
