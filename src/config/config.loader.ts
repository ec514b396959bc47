import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { EnvSchema, type Env } from './env.schema.js';
import type { Config } from './config.types.js';

/** A configuration problem: start-up stops with this one-line message, no stack trace. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

export type EnvSource = Record<string, string | undefined>;

/** Validates an environment and builds the typed namespaces. Throws `ConfigError`. */
export function parseConfig(source: EnvSource): Config {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`),
    );
  }
  const env = parsed.data;
  const problems = [...productionProblems(env), ...providerProblems(env)];
  if (problems.length > 0) throw new ConfigError(problems);
  return build(env);
}

/** Each provider's credentials come complete or not at all; Alipay's keys must be real keys. */
function providerProblems(env: Env): string[] {
  const problems: string[] = [];
  const groups: Array<{ required: Array<keyof Env>; optional?: Array<keyof Env> }> = [
    { required: ['WECHAT_APP_ID', 'WECHAT_APP_SECRET'] },
    { required: ['ALIPAY_APP_ID', 'ALIPAY_PRIVATE_KEY', 'ALIPAY_PUBLIC_KEY'] },
    { required: ['DINGTALK_CLIENT_ID', 'DINGTALK_CLIENT_SECRET'], optional: ['DINGTALK_CORP_ID'] },
  ];
  for (const { required, optional = [] } of groups) {
    const set = [...required, ...optional].filter((name) => env[name] !== undefined);
    if (set.length === 0) continue;
    for (const name of required) {
      if (env[name] === undefined)
        problems.push(`${name}: required with ${set.join(', ')} (a provider's credentials come together)`);
    }
  }
  if (env.ALIPAY_PRIVATE_KEY !== undefined && !rsaKeyPem(env.ALIPAY_PRIVATE_KEY, 'private')) {
    problems.push("ALIPAY_PRIVATE_KEY: expected the app's RSA private key (PEM, or bare base64 PKCS#8/PKCS#1)");
  }
  if (env.ALIPAY_PUBLIC_KEY !== undefined && !rsaKeyPem(env.ALIPAY_PUBLIC_KEY, 'public')) {
    problems.push(
      "ALIPAY_PUBLIC_KEY: expected Alipay's RSA public key (PEM, or bare base64 SPKI); responses are verified with it",
    );
  }
  return problems;
}

/**
 * An RSA key as PEM, from PEM or from the bare base64 Alipay's console gives
 * (PKCS#8 or PKCS#1 for a private key, SPKI for a public one); null when it is
 * not one.
 */
function rsaKeyPem(text: string, kind: 'private' | 'public'): string | null {
  const trimmed = text.trim();
  const candidates = trimmed.includes('-----BEGIN')
    ? [trimmed]
    : (kind === 'private' ? ['PRIVATE KEY', 'RSA PRIVATE KEY'] : ['PUBLIC KEY']).map((label) =>
        pem(label, trimmed.replace(/\s+/g, '')),
      );
  for (const candidate of candidates) {
    try {
      const key = kind === 'private' ? createPrivateKey(candidate) : createPublicKey(candidate);
      if (key.asymmetricKeyType !== 'rsa') return null;
      return key.export({ type: kind === 'private' ? 'pkcs8' : 'spki', format: 'pem' }).toString();
    } catch {
      // not this encoding
    }
  }
  return null;
}

function pem(label: string, base64: string): string {
  return `-----BEGIN ${label}-----\n${base64.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END ${label}-----\n`;
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

function build(env: Env): Config {
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
      ...(env.WECHAT_APP_ID && env.WECHAT_APP_SECRET
        ? {
            wechat: {
              appId: env.WECHAT_APP_ID,
              appSecret: env.WECHAT_APP_SECRET,
              openBase: trimSlash(env.WECHAT_OPEN_BASE),
              apiBase: trimSlash(env.WECHAT_API_BASE),
            },
          }
        : {}),
      ...(env.ALIPAY_APP_ID && env.ALIPAY_PRIVATE_KEY && env.ALIPAY_PUBLIC_KEY
        ? {
            alipay: {
              appId: env.ALIPAY_APP_ID,
              privateKeyPem: rsaKeyPem(env.ALIPAY_PRIVATE_KEY, 'private')!,
              alipayPublicKeyPem: rsaKeyPem(env.ALIPAY_PUBLIC_KEY, 'public')!,
              authBase: trimSlash(env.ALIPAY_AUTH_BASE),
              gateway: env.ALIPAY_GATEWAY,
            },
          }
        : {}),
      ...(env.DINGTALK_CLIENT_ID && env.DINGTALK_CLIENT_SECRET
        ? {
            dingtalk: {
              clientId: env.DINGTALK_CLIENT_ID,
              clientSecret: env.DINGTALK_CLIENT_SECRET,
              ...(env.DINGTALK_CORP_ID ? { corpId: env.DINGTALK_CORP_ID } : {}),
              loginBase: trimSlash(env.DINGTALK_LOGIN_BASE),
              apiBase: trimSlash(env.DINGTALK_API_BASE),
            },
          }
        : {}),
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

const trimSlash = (base: string) => base.replace(/\/+$/, '');
