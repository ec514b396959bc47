import type { Env } from './env.schema.js';

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
  apiDocs: boolean;
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

export interface LogConfig {
  level: Env['LOG_LEVEL'];
}

export interface Config {
  app: AppConfig;
  database: DatabaseConfig;
  store: StoreConfig;
  log: LogConfig;
}

export const APP_CONFIG = Symbol('config:app');
export const DATABASE_CONFIG = Symbol('config:database');
export const STORE_CONFIG = Symbol('config:store');
export const LOG_CONFIG = Symbol('config:log');
