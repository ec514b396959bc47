import { Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { DATABASE_CONFIG, type DatabaseConfig } from '../config/index.js';
import { LocalSecrets } from '../common/index.js';
import { EmbeddedPostgres } from './embedded-postgres.js';
import { PgliteFactory } from './pglite.factory.js';
import { dataSourceOptions } from './database.options.js';
import { runPendingMigrations } from './migration.runner.js';

@Module({ providers: [EmbeddedPostgres, LocalSecrets, PgliteFactory], exports: [EmbeddedPostgres] })
class EmbeddedPostgresModule {}

/** Stops the embedded server at shutdown, after the pool that uses it. */
@Injectable()
class EmbeddedPostgresShutdown implements OnApplicationShutdown {
  constructor(
    private readonly embedded: EmbeddedPostgres,
    private readonly dataSource: DataSource,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.embedded.running) return;
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    await this.embedded.stop();
    new Logger('Database').log('Embedded database stopped');
  }
}

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
          // The embedded server is up by now; a real one may still be starting
          // (compose), but a wrong URL should not keep a newcomer waiting long.
          retryAttempts: config.mode === 'external' ? 5 : 0,
          retryDelay: 2_000,
        };
      },
      dataSourceFactory: async (options?: DataSourceOptions) => {
        // TypeORM's own `migrationsRun` takes no lock: run them ourselves under one.
        const dataSource = await new DataSource({ ...options!, migrationsRun: false }).initialize();
        if (options!.migrationsRun) await runPendingMigrations(dataSource);
        return dataSource;
      },
    }),
    EmbeddedPostgresModule,
  ],
  providers: [EmbeddedPostgresShutdown],
})
export class DatabaseModule {}
