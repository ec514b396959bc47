import type { Provider } from '@nestjs/common';
import { LocalSecrets } from '../../common/index.js';
import {
  APP_CONFIG,
  AUTH_CONFIG,
  DATABASE_CONFIG,
  type AppConfig,
  type AuthConfig,
  type DatabaseConfig,
} from '../../config/index.js';

/** The AES-256-GCM key sealing the signing keys' private halves at rest. */
export const SIGNING_KEYS_SECRET = Symbol('SIGNING_KEYS_SECRET');
/** Where development keeps it without SIGNING_KEYS_SECRET: `DATA_DIR/signing-keys.secret` (0600). */
const SIGNING_KEYS_SECRET_FILE = 'signing-keys.secret';

/**
 * SIGNING_KEYS_SECRET when set (always, in production); otherwise a secret
 * made once in the data folder, readable by its owner only, so that the keys
 * are never stored in the clear (security review, finding 6).
 */
export const signingKeysSecretProvider: Provider = {
  provide: SIGNING_KEYS_SECRET,
  inject: [AUTH_CONFIG, APP_CONFIG, DATABASE_CONFIG, LocalSecrets],
  useFactory: (
    auth: AuthConfig,
    app: AppConfig,
    database: DatabaseConfig,
    secrets: LocalSecrets,
  ): Buffer | Promise<Buffer> =>
    auth.signingKeysSecret ??
    secrets.get(database.dataDir === 'memory://' ? 'memory://' : app.dataDir, SIGNING_KEYS_SECRET_FILE),
};
