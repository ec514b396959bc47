import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { DATABASE_CONFIG, type DatabaseConfig } from '../config/config.types.js';
import { EmbeddedPostgres } from './embedded-postgres.js';
import { dataSourceOptions } from './database.options.js';
import { runPendingMigrations } from './migration.runner.js';

@Module({ providers: [EmbeddedPostgres], exports: [EmbeddedPostgres] })
class EmbeddedPostgresModule {}

/**
 * Postgres through TypeORM: the server at `DATABASE_URL`, or the embedded one
 * (PGlite) when it is unset. Entities are registered by each feature module
 * with `TypeOrmModule.forFeature`; the schema comes from `migrations/`, applied
 * at start-up under an advisory lock when `DATABASE_MIGRATE_ON_START` is on,
 * before any other module can use the database.
 */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      imports: [EmbeddedPostgresModule],
      inject: [DATABASE_CONFIG, EmbeddedPostgres],
      useFactory: async (config: DatabaseConfig, embedded: EmbeddedPostgres) => {
        const url = config.mode === 'external' ? config.url! : await embedded.start(config.dataDir);
        return {
          ...dataSourceOptions(config, url),
          autoLoadEntities: true,
          // The embedded server is up by now; a real one may still be starting.
          retryAttempts: config.mode === 'external' ? 10 : 0,
          retryDelay: 3_000,
        };
      },
      dataSourceFactory: async (options?: DataSourceOptions) => {
        // TypeORM's own `migrationsRun` takes no lock: run them ourselves under one.
        const dataSource = await new DataSource({ ...options!, migrationsRun: false }).initialize();
        if (options!.migrationsRun) await runPendingMigrations(dataSource);
        return dataSource;
      },
    }),
  ],
})
export class DatabaseModule {}
