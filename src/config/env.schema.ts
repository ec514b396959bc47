import { z } from 'zod';
import { int, onOff, optional, url } from './env.fields.js';
import { PROVIDER_VARIABLES } from './oauth-providers.env.js';

/**
 * The one schema for the process environment. Every variable ScanGate reads is
 * declared here (the OAuth providers' in `oauth-providers.env.ts`, one entry each; all explained in `.env.example`); `config.loader.ts` is the only
 * place that hands `process.env` to it. Messages name what is expected and never
 * echo the value, because some values (DATABASE_URL, REDIS_URL) carry passwords.
 */

export const EnvSchema = z.object({
  NODE_ENV: z
    .enum(['development', 'production', 'test'], { error: 'expected development, production or test' })
    .default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: int(1, 65535, 3000, 'a port number'),
  PUBLIC_URL: optional(url(['http:', 'https:'], 'an http(s) origin such as https://login.example.com')),
  DATA_DIR: z.string().min(1).default('./data'),

  DATABASE_URL: optional(url(['postgres:', 'postgresql:'], 'a postgres:// connection URL')),
  DATABASE_POOL_SIZE: int(1, 200, 10, 'a pool size'),
  DATABASE_MIGRATE_ON_START: onOff('on'),

  REDIS_URL: optional(url(['redis:', 'rediss:'], 'a redis:// or rediss:// URL')),
  STORE_TIMEOUT_MS: int(50, 1000, 500, 'a timeout in milliseconds'),
  STORE_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,40}$/, { error: 'expected up to 40 letters, digits, ":", "_" or "-"' })
    .default('scangate:'),

  RATE_LIMITS: onOff('on'),
  TRUST_PROXY: z
    .string()
    .regex(
      /^(true|false|\d{1,2}|(loopback|linklocal|uniquelocal|[0-9a-fA-F.:/]+)(\s*,\s*(loopback|linklocal|uniquelocal|[0-9a-fA-F.:/]+))*)$/,
      {
        error:
          'expected false, true, a hop count, or a comma-separated list of addresses/CIDRs (loopback, uniquelocal, 10.0.0.0/8, …)',
      },
    )
    .default('false'),
  CORS_ORIGINS: z
    .string()
    .default('')
    .refine(
      (v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
          .every((o) => {
            try {
              const u = new URL(o);
              return (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === o;
            } catch {
              return false;
            }
          }),
      {
        error:
          'expected a comma-separated list of origins such as https://app.example.com (no path, no trailing slash)',
      },
    ),
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, { error: 'expected a size such as 100kb or 1mb' })
    .default('100kb'),
  SHUTDOWN_GRACE_MS: int(0, 120_000, 10_000, 'a duration in milliseconds'),
  API_DOCS: optional(z.enum(['on', 'off'], { error: 'expected "on" or "off"' }).transform((v) => v === 'on')),
  METRICS_TOKEN: optional(
    z.string().regex(/^[\x21-\x7e]{16,256}$/, {
      error: 'expected 16 to 256 printable characters without spaces (a random token)',
    }),
  ),

  AUTH_AUDIENCE: z
    .string()
    .regex(/^[\x21-\x7e]{1,200}$/, { error: 'expected a short printable identifier' })
    .default('scangate'),
  ACCESS_TOKEN_TTL_SECONDS: int(60, 900, 600, 'a lifetime in seconds (at most 15 minutes)'),
  REFRESH_TTL_MOBILE_DAYS: int(1, 365, 30, 'a number of days'),
  REFRESH_TTL_WEB_DAYS: int(1, 365, 14, 'a number of days'),
  REFRESH_TTL_QR_WEB_DAYS: int(1, 365, 7, 'a number of days'),
  REFRESH_ABSOLUTE_DAYS: int(1, 730, 90, 'a number of days'),
  REFRESH_REUSE_GRACE_SECONDS: int(0, 60, 5, 'a number of seconds'),
  REAUTH_MAX_AGE_SECONDS: int(30, 86_400, 300, 'a number of seconds'),
  SIGNING_KEYS_SECRET: optional(
    z.string().refine((v) => Buffer.from(v, 'base64').length === 32 && /^[A-Za-z0-9+/]{43}=$/.test(v), {
      error: 'expected 32 random bytes in base64 (openssl rand -base64 32)',
    }),
  ),
  LOGIN_LIMIT_PER_IP: int(1, 100_000, 30, 'a number of attempts per minute'),
  LOGIN_LIMIT_PER_ACCOUNT_IP: int(1, 10_000, 10, 'a number of attempts per 15 minutes'),
  LOGIN_LIMIT_PER_ACCOUNT: int(1, 10_000, 30, 'a number of attempts per minute'),
  DEMO_USER: onOff('on'),

  QR_TTL_SECONDS: int(2, 300, 120, 'a lifetime in seconds (30 to 300; tests outside production may go down to 2)'),
  QR_NUMBER_MATCHING: onOff('on'),
  QR_ALLOW_KEYLESS_DEVICES: optional(
    z.enum(['on', 'off'], { error: 'expected "on" or "off"' }).transform((v) => v === 'on'),
  ),
  QR_CREATE_LIMIT_PER_IP: int(1, 100_000, 30, 'a number of QR codes per minute'),
  QR_STATUS_LIMIT_PER_SESSION: int(1, 100_000, 300, 'a number of status requests per minute'),
  QR_STATUS_MISS_LIMIT_PER_IP: int(
    1,
    100_000,
    60,
    'a number of status requests with a wrong id or poll token per minute',
  ),
  QR_SCAN_LIMIT_PER_USER: int(1, 100_000, 30, 'a number of scans and confirms per minute'),
  SOCKET_PING_INTERVAL_MS: int(1_000, 300_000, 20_000, 'milliseconds between Socket.IO pings'),
  SOCKET_PING_TIMEOUT_MS: int(1_000, 300_000, 10_000, 'milliseconds to wait for a pong'),
  SOCKET_CONNECT_LIMIT_PER_IP: int(1, 100_000, 60, 'a number of socket connections per minute'),
  SOCKET_MAX_PER_QR: int(1, 100, 5, 'a number of sockets per QR session'),
  GEOIP_CITY_DB: optional(z.string().min(1)),
  GEOIP_ASN_DB: optional(z.string().min(1)),

  SANDBOXES: onOff('on'),
  OAUTH_TIMEOUT_MS: int(100, 60_000, 5_000, 'a timeout in milliseconds'),
  ...PROVIDER_VARIABLES,
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'expected one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
});

export type Env = z.infer<typeof EnvSchema>;
