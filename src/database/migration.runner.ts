import { Logger } from '@nestjs/common';
import { MigrationExecutor, type DataSource, type QueryRunner } from 'typeorm';

/**
 * Key of the session-level Postgres advisory lock held while migrating, so that
 * instances starting together migrate one after the other: the first applies
 * the pending migrations, the others then find none. ("SCANGATE" in ASCII.)
 */
const MIGRATION_LOCK_KEY = '6000436526395999301';

const logger = new Logger('Database');

/** Applies every pending migration in one transaction, under the advisory lock. */
export async function runPendingMigrations(dataSource: DataSource): Promise<string[]> {
  return withMigrationLock(dataSource, async (runner) => {
    const executor = new MigrationExecutor(dataSource, runner);
    executor.transaction = 'all';
    const applied = await executor.executePendingMigrations();
    const names = applied.map((m) => m.name);
    if (names.length > 0) logger.log(`Applied ${names.length} migration(s): ${names.join(', ')}`);
    return names;
  });
}

/** Reverts the most recently applied migration, under the advisory lock. */
export async function revertLastMigration(dataSource: DataSource): Promise<void> {
  await withMigrationLock(dataSource, async (runner) => {
    const executor = new MigrationExecutor(dataSource, runner);
    executor.transaction = 'each';
    await executor.undoLastMigration();
  });
}

/** Names of the migrations not yet applied. */
export async function pendingMigrations(dataSource: DataSource): Promise<string[]> {
  return withMigrationLock(dataSource, async (runner) => {
    const executor = new MigrationExecutor(dataSource, runner);
    return (await executor.getPendingMigrations()).map((m) => m.name);
  });
}

async function withMigrationLock<T>(dataSource: DataSource, work: (runner: QueryRunner) => Promise<T>): Promise<T> {
  // One connection for the lock and the work: the embedded database has only one.
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await work(runner);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}
