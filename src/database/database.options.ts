import type { DataSourceOptions } from 'typeorm';
import { migrations } from '../../migrations/index.js';
import type { DatabaseConfig } from '../config/index.js';
import { TypeOrmLogger } from './typeorm.logger.js';

/** Name of the table that records applied migrations. */
export const MIGRATIONS_TABLE = 'schema_migrations';

/**
 * TypeORM options shared by the application and the migration CLI. Schema
 * changes happen through migrations only: `synchronize` is never on.
 */
export function dataSourceOptions(config: DatabaseConfig, url: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    synchronize: false,
    migrationsRun: config.migrateOnStart,
    migrations,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'all',
    // Schema comes from migrations only. UUID defaults use gen_random_uuid(),
    // built into Postgres 13+ and PGlite, so no extension is ever installed.
    installExtensions: false,
    uuidExtension: 'pgcrypto',
    poolSize: config.poolSize,
    extra: {
      connectionTimeoutMillis: 5_000,
      // The embedded server's single session stays open for the app's lifetime.
      idleTimeoutMillis: config.mode === 'embedded' ? 0 : 30_000,
    },
    logger: new TypeOrmLogger(),
    logging: ['error', 'warn', 'migration'],
    maxQueryExecutionTime: 1_000,
  };
}
