import type { Env } from './env.schema.js';
import type { ProviderSettingsById } from './oauth-providers.env.js';

/** Typed namespaces built from the validated environment (see `config.loader.ts`). */
export interface AppConfig {
  env: Env['NODE_ENV'];
  isProduction: boolean;
  host: string;
  port: number;
  /** The origin users see, without a trailing slash: QR contents and redirects use it. */
  publicUrl: string;
  dataDir: string;
  rateLimits: boolean;
  /** Express `trust proxy` value: false, true, a hop count or a list of addresses. */
  trustProxy: boolean | number | string[];
  corsOrigins: string[];
  bodyLimit: string;
  shutdownGraceMs: number;
  /** Serve the OpenAPI UI and document (`API_DOCS`; off by default in production). */
  apiDocs: boolean;
  /** When set, `GET /metrics` needs `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string;
}

export interface DatabaseConfig {
  /** `embedded` runs PGlite under `dataDir`; `external` connects to `url`. */
  mode: 'embedded' | 'external';
  url?: string;
  /** Where the embedded database keeps its files; `memory://` keeps them in memory (tests). */
  dataDir: string;
  poolSize: number;
  migrateOnStart: boolean;
}

export interface StoreConfig {
  /** `redis` shares state between instances; `memory` is for one instance only. */
  mode: 'memory' | 'redis';
  url?: string;
  /** A Redis command that takes longer fails with `store.unavailable`. */
  timeoutMs: number;
  keyPrefix: string;
}

export interface AuthConfig {
  /** `iss` of every access token: the public URL. */
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
  refreshTtlDays: { mobile: number; web: number; qrWeb: number; absolute: number };
  /** A rotated refresh token presented again within this many seconds (a parallel refresh) is refused without revoking the family. */
  refreshReuseGraceSeconds: number;
  reauthMaxAgeSeconds: number;
  /** AES-256-GCM key for the signing keys' private halves in the database; required in production. */
  signingKeysSecret?: Buffer;
  /** Refresh cookie `Secure` flag: on unless the public URL is plain http outside production. */
  secureCookies: boolean;
  loginLimitPerIpPerMinute: number;
  /** Password attempts on one login from one client IP (or in one session, for reauth and password changes), per 15 minutes. */
  loginLimitPerAccountIpPer15Minutes: number;
  /** Password attempts on one login from everywhere, per minute: slows guessing, never locks for long; known devices are exempt. */
  loginLimitPerAccountPerMinute: number;
  /** Create (once) and announce a demo user: zero-configuration development only. */
  demoUser: boolean;
}

export interface QrConfig {
  ttlSeconds: number;
  numberMatching: boolean;
  /** Whether phones without a registered device key may scan and approve (off by default in production). */
  allowKeylessDevices: boolean;
  createLimitPerIpPerMinute: number;
  /** Status polls with the right poll token, per QR session. */
  statusLimitPerSessionPerMinute: number;
  /** Status polls with an unknown id or a wrong poll token, per client IP (never counted against the session). */
  statusMissLimitPerIpPerMinute: number;
  scanLimitPerUserPerMinute: number;
  geoip: { cityDb?: string; asnDb?: string };
}

export interface RealtimeConfig {
  /** Socket.IO heartbeat: a ping every `pingIntervalMs`, a peer silent for `pingTimeoutMs` more is gone. */
  pingIntervalMs: number;
  pingTimeoutMs: number;
  connectLimitPerIpPerMinute: number;
  /** Sockets on `/qr` per QR session, over all instances. */
  maxSocketsPerQr: number;
}

/**
 * Besides these, the settings of each provider whose credentials are set
 * (`oauth-providers.env.ts`; absent: served by its sandbox when `sandboxes`,
 * else disabled).
 */
export type OAuthConfig = ProviderSettingsById & {
  /** Per upstream call; no retry. */
  timeoutMs: number;
  /** Provider sandboxes under /sandbox/<provider>: never in production. */
  sandboxes: boolean;
};

export interface LogConfig {
  level: Env['LOG_LEVEL'];
}

export interface Config {
  app: AppConfig;
  database: DatabaseConfig;
  store: StoreConfig;
  auth: AuthConfig;
  qr: QrConfig;
  realtime: RealtimeConfig;
  oauth: OAuthConfig;
  log: LogConfig;
}

export const APP_CONFIG = Symbol('config:app');
export const DATABASE_CONFIG = Symbol('config:database');
export const STORE_CONFIG = Symbol('config:store');
export const AUTH_CONFIG = Symbol('config:auth');
export const QR_CONFIG = Symbol('config:qr');
export const REALTIME_CONFIG = Symbol('config:realtime');
export const OAUTH_CONFIG = Symbol('config:oauth');
export const LOG_CONFIG = Symbol('config:log');
