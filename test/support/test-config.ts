import { parseConfig, type EnvSource } from '../../src/config/config.loader.js';
import type { Config } from '../../src/config/config.types.js';
import type { ProviderEnvTable } from '../../src/config/index.js';

/**
 * Real services for the integration tiers, when the machine has them
 * (`.ci/run` sets both); otherwise the embedded stand-ins are used.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL || undefined;
/** In CI a suite may not skip for want of a service: a skip fails the run. */
export const IN_CI = process.env.CI === 'true';

/**
 * A configuration for tests: the embedded database in memory and the in-process
 * store unless `real` asks for the real services (when configured); `providers`
 * adds OAuth providers' configuration entries to ScanGate's own.
 */
export function testConfig(
  overrides: EnvSource = {},
  real: { database?: boolean; store?: boolean } = {},
  providers?: ProviderEnvTable,
): Config {
  return parseConfig(
    {
      NODE_ENV: 'test',
      PORT: '3000',
      DATA_DIR: 'memory://',
      LOG_LEVEL: 'silent',
      DATABASE_URL: real.database ? TEST_DATABASE_URL : undefined,
      REDIS_URL: real.store ? TEST_REDIS_URL : undefined,
      ...overrides,
    },
    providers,
  );
}

/** Limits no test reaches (the default 10 logins per account and IP per 15 minutes would). */
export const NO_LOGIN_LIMITS = {
  LOGIN_LIMIT_PER_IP: '100000',
  LOGIN_LIMIT_PER_ACCOUNT_IP: '10000',
  LOGIN_LIMIT_PER_ACCOUNT: '10000',
} as const;
