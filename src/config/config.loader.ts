import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { EnvSchema, type Env } from './env.schema.js';
import { PROVIDER_ENV, variablesOf, type ProviderEnvTable } from './oauth-providers.env.js';
import type { Config } from './config.types.js';

/** A configuration problem: start-up stops with this one-line message, no stack trace. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

export type EnvSource = Record<string, string | undefined>;

/**
 * Validates an environment and builds the typed namespaces. Throws `ConfigError`.
 * `providers` is `PROVIDER_ENV`, or it with further providers' entries (a
 * provider plugged in from outside this code base).
 */
export function parseConfig(source: EnvSource, providers: ProviderEnvTable = PROVIDER_ENV): Config {
  const schema = providers === PROVIDER_ENV ? EnvSchema : EnvSchema.extend(variablesOf(providers));
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`),
    );
  }
  // Plug-ins' variables come on top of `Env`; their entries read them.
  const env = parsed.data as Env;
  const problems = [...productionProblems(env), ...providerProblems(env, providers)];
  if (problems.length > 0) throw new ConfigError(problems);
  return build(env, providers);
}

/** Each provider's credentials come complete or not at all, and pass its own checks. */
function providerProblems(env: Record<string, unknown>, providers: ProviderEnvTable): string[] {
  const problems: string[] = [];
  for (const entry of Object.values(providers)) {
    const { required, optional = [] } = entry.credentials;
    const set = [...required, ...optional].filter((name) => env[name] !== undefined);
    if (set.length > 0) {
      for (const name of required) {
        if (env[name] === undefined)
          problems.push(`${name}: required with ${set.join(', ')} (a provider's credentials come together)`);
      }
    }
    problems.push(...(entry.problems?.(env) ?? []));
  }
  return problems;
}

/** The settings of each provider whose credentials are set. */
function providerSettings(env: Record<string, unknown>, providers: ProviderEnvTable): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(providers)
      .filter(([, entry]) => entry.credentials.required.every((name) => env[name] !== undefined))
      .map(([id, entry]) => [id, entry.settings(env)]),
  );
}

/** NODE_ENV=production refuses settings that are only safe on a laptop. */
function productionProblems(env: Env): string[] {
  if (env.NODE_ENV !== 'production') return [];
  const problems: string[] = [];
  if (!env.PUBLIC_URL) {
    problems.push('PUBLIC_URL: required when NODE_ENV=production (the https:// origin users see)');
  } else if (!env.PUBLIC_URL.startsWith('https://')) {
    problems.push('PUBLIC_URL: must be an https:// origin when NODE_ENV=production');
  }
  if (!env.DATABASE_URL) {
    problems.push('DATABASE_URL: required when NODE_ENV=production (the embedded database is for development only)');
  }
  if (env.QR_TTL_SECONDS < 30) {
    problems.push('QR_TTL_SECONDS: must be at least 30 when NODE_ENV=production');
  }
  if (!env.SIGNING_KEYS_SECRET) {
    problems.push('SIGNING_KEYS_SECRET: required when NODE_ENV=production (encrypts the token signing keys at rest)');
  }
  return problems;
}

function build(env: Env, providers: ProviderEnvTable): Config {
  const isProduction = env.NODE_ENV === 'production';
  const publicUrl = new URL(env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).origin;
  const dataDir = resolve(env.DATA_DIR);
  return {
    app: {
      env: env.NODE_ENV,
      isProduction,
      host: env.HOST,
      port: env.PORT,
      publicUrl,
      dataDir,
      rateLimits: env.RATE_LIMITS,
      trustProxy: parseTrustProxy(env.TRUST_PROXY),
      corsOrigins: env.CORS_ORIGINS.split(',')
        .map((o) => o.trim())
        .filter(Boolean),
      bodyLimit: env.BODY_LIMIT.toLowerCase(),
      shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
      apiDocs: env.API_DOCS ?? !isProduction,
      metricsToken: env.METRICS_TOKEN,
    },
    database: {
      mode: env.DATABASE_URL ? 'external' : 'embedded',
      url: env.DATABASE_URL,
      dataDir: env.DATA_DIR === 'memory://' ? 'memory://' : resolve(dataDir, 'postgres'),
      poolSize: env.DATABASE_URL ? env.DATABASE_POOL_SIZE : 1,
      migrateOnStart: env.DATABASE_MIGRATE_ON_START,
    },
    store: {
      mode: env.REDIS_URL ? 'redis' : 'memory',
      url: env.REDIS_URL,
      timeoutMs: env.STORE_TIMEOUT_MS,
      keyPrefix: env.STORE_KEY_PREFIX,
    },
    auth: {
      issuer: publicUrl,
      audience: env.AUTH_AUDIENCE,
      accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
      refreshTtlDays: {
        mobile: env.REFRESH_TTL_MOBILE_DAYS,
        web: env.REFRESH_TTL_WEB_DAYS,
        qrWeb: env.REFRESH_TTL_QR_WEB_DAYS,
        absolute: env.REFRESH_ABSOLUTE_DAYS,
      },
      refreshReuseGraceSeconds: env.REFRESH_REUSE_GRACE_SECONDS,
      reauthMaxAgeSeconds: env.REAUTH_MAX_AGE_SECONDS,
      signingKeysSecret: env.SIGNING_KEYS_SECRET ? Buffer.from(env.SIGNING_KEYS_SECRET, 'base64') : undefined,
      secureCookies: isProduction || publicUrl.startsWith('https://'),
      loginLimitPerIpPerMinute: env.LOGIN_LIMIT_PER_IP,
      loginLimitPerAccountIpPer15Minutes: env.LOGIN_LIMIT_PER_ACCOUNT_IP,
      loginLimitPerAccountPerMinute: env.LOGIN_LIMIT_PER_ACCOUNT,
      demoUser: env.DEMO_USER && !isProduction && !env.DATABASE_URL,
    },
    qr: {
      ttlSeconds: env.QR_TTL_SECONDS,
      numberMatching: env.QR_NUMBER_MATCHING,
      allowKeylessDevices: env.QR_ALLOW_KEYLESS_DEVICES ?? !isProduction,
      createLimitPerIpPerMinute: env.QR_CREATE_LIMIT_PER_IP,
      statusLimitPerSessionPerMinute: env.QR_STATUS_LIMIT_PER_SESSION,
      statusMissLimitPerIpPerMinute: env.QR_STATUS_MISS_LIMIT_PER_IP,
      scanLimitPerUserPerMinute: env.QR_SCAN_LIMIT_PER_USER,
      geoip: { cityDb: env.GEOIP_CITY_DB, asnDb: env.GEOIP_ASN_DB },
    },
    realtime: {
      pingIntervalMs: env.SOCKET_PING_INTERVAL_MS,
      pingTimeoutMs: env.SOCKET_PING_TIMEOUT_MS,
      connectLimitPerIpPerMinute: env.SOCKET_CONNECT_LIMIT_PER_IP,
      maxSocketsPerQr: env.SOCKET_MAX_PER_QR,
    },
    oauth: {
      timeoutMs: env.OAUTH_TIMEOUT_MS,
      sandboxes: env.SANDBOXES && !isProduction,
      ...providerSettings(env, providers),
    },
    log: { level: env.LOG_LEVEL },
  };
}

function parseTrustProxy(value: string): boolean | number | string[] {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(',').map((s) => s.trim());
}

/**
 * The process's configuration: `.env` in the working directory (if any) under
 * the real environment, validated once. The only reader of `process.env`.
 */
export function loadConfig(options: { dotenv?: boolean } = {}): Config {
  const file = resolve('.env');
  if (options.dotenv !== false && existsSync(file)) {
    // Variables already set in the environment win over the file.
    process.loadEnvFile(file);
  }
  return parseConfig(process.env);
}
