import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { migrations } from '../../migrations/index.js';
import { MIGRATIONS_TABLE } from '../../src/database/database.options.js';
import { runPendingMigrations } from '../../src/database/migration.runner.js';

/**
 * A new, empty database on the real Postgres server of `serverUrl`
 * (TEST_DATABASE_URL), so suites never see each other's tables; `drop()`
 * removes it. Needs CREATEDB (the CI user is the superuser).
 */
export function freshDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  return createDatabase(serverUrl);
}

/** A new database on the server, a copy of `template` when given; `drop()` removes it. */
async function createDatabase(serverUrl: string, template?: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `scangate_test_${randomBytes(6).toString('hex')}`;
  await admin(serverUrl, template ? `CREATE DATABASE ${name} TEMPLATE ${template}` : `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function admin(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Like `freshDatabase`, but already migrated: a copy (`CREATE DATABASE …
 * TEMPLATE`) of a template database that ran every migration once, named by a
 * hash of the migrations, so that a changed migration gets a new template. An
 * app started on it still runs its migration step, which then finds nothing
 * pending; the suites about migrations themselves use `freshDatabase`.
 */
export async function migratedDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  return createDatabase(serverUrl, await migratedTemplate(serverUrl));
}

let template: Promise<string> | undefined;

function migratedTemplate(serverUrl: string): Promise<string> {
  template ??= makeTemplate(serverUrl).catch((error: unknown) => {
    template = undefined;
    throw error;
  });
  return template;
}

/** Made once per server and set of migrations; parallel workers wait on an advisory lock for the first to finish. */
async function makeTemplate(serverUrl: string): Promise<string> {
  const hash = createHash('sha256');
  for (const migration of migrations) hash.update(`${migration.name}\n${migration.toString()}\n`);
  const name = `scangate_template_${hash.digest('hex').slice(0, 16)}`;
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', ['scangate test template']);
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      const building = `${name}_${randomBytes(4).toString('hex')}`;
      await client.query(`CREATE DATABASE ${building}`);
      const url = new URL(serverUrl);
      url.pathname = `/${building}`;
      const dataSource = await new DataSource({
        type: 'postgres',
        url: url.toString(),
        migrations,
        migrationsTableName: MIGRATIONS_TABLE,
      }).initialize();
      try {
        await runPendingMigrations(dataSource);
      } finally {
        await dataSource.destroy();
      }
      // Renamed once complete: a template by that name is a whole one.
      await client.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
    }
  } finally {
    await client.end();
  }
  return name;
}
