import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import pg from 'pg';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../../src/config/config.types.js';
import { dataSourceOptions, MIGRATIONS_TABLE } from '../../src/database/database.options.js';
import { LocalSecrets } from '../../src/common/secrets/local-secret.js';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres.js';
import { PgliteFactory } from '../../src/database/pglite.factory.js';
import { revertLastMigration, runPendingMigrations } from '../../src/database/migration.runner.js';
import { CreatedWidgets1700000000000 } from '../fixtures/database/created-widgets.migration.js';
import { DriftedWidget, Widget } from '../fixtures/database/widget.entity.js';
import { freshDatabase } from '../support/fresh-database.js';
import { describeWith } from '../support/services.js';
import { TEST_DATABASE_URL } from '../support/test-config.js';

const dbConfig = (mode: DatabaseConfig['mode'], poolSize: number): DatabaseConfig => ({
  mode,
  dataDir: 'memory://',
  poolSize,
  migrateOnStart: false,
});

function dataSource(url: string, poolSize: number, entities: Array<new () => object> = [Widget]): DataSource {
  return new DataSource({
    ...dataSourceOptions(dbConfig('external', poolSize), url),
    migrations: [CreatedWidgets1700000000000],
    entities,
  });
}

/** A database target: the embedded PGlite server, or a fresh database on the real server. */
interface Target {
  url: string;
  poolSize: number;
  dispose(): Promise<void>;
}

const targets: Array<[string, string | undefined, () => Promise<Target>]> = [
  [
    'embedded (PGlite over pglite-socket)',
    undefined,
    async () => {
      const embedded = new EmbeddedPostgres(new LocalSecrets(), new PgliteFactory());
      return { url: await embedded.start('memory://'), poolSize: 1, dispose: () => embedded.stop() };
    },
  ],
  [
    'real Postgres',
    TEST_DATABASE_URL ? undefined : 'TEST_DATABASE_URL is not set',
    async () => {
      const db = await freshDatabase(TEST_DATABASE_URL!);
      return { url: db.url, poolSize: 10, dispose: () => db.drop() };
    },
  ],
];

describe.each(targets)('database contract on %s', (_name, need, makeTarget) => {
  describeWith(need, 'migrations and transactions', () => {
    let target: Target;
    let ds: DataSource;

    beforeEach(async () => {
      target = await makeTarget();
      ds = await dataSource(target.url, target.poolSize).initialize();
    });

    afterEach(async () => {
      if (ds.isInitialized) await ds.destroy();
      await target.dispose();
    });

    it('applies pending migrations once, and a second run finds none', async () => {
      expect(await runPendingMigrations(ds)).toEqual(['CreatedWidgets1700000000000']);
      expect(await runPendingMigrations(ds)).toEqual([]);
      const rows: Array<{ name: string }> = await ds.query(`SELECT name FROM ${MIGRATIONS_TABLE}`);
      expect(rows.map((r) => r.name)).toEqual(['CreatedWidgets1700000000000']);
    });

    it('reverts the last migration, and can apply it again', async () => {
      await runPendingMigrations(ds);
      await revertLastMigration(ds);
      const [{ exists }] = await ds.query(`SELECT to_regclass('public.widgets') IS NOT NULL AS exists`);
      expect(exists).toBe(false);
      expect(await runPendingMigrations(ds)).toEqual(['CreatedWidgets1700000000000']);
    });

    it('keeps concurrent transactions apart: rolled-back ones vanish, committed ones all stay', async () => {
      await runPendingMigrations(ds);
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          ds.transaction(async (em) => {
            await em.insert(Widget, { name: `w${i}` });
            await new Promise((r) => setTimeout(r, 5));
            if (i % 2 === 0) throw new Error(`roll back w${i}`);
          }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
      const names = (await ds.getRepository(Widget).find()).map((w) => w.name).sort();
      expect(names).toEqual(['w1', 'w3', 'w5', 'w7']);
    });

    it('finds no schema change once migrated when entities match the migrations', async () => {
      await runPendingMigrations(ds);
      const { upQueries } = await ds.driver.createSchemaBuilder().log();
      expect(upQueries).toEqual([]);
    });

    it('detects an entity that drifted from the migrations', async () => {
      await runPendingMigrations(ds);
      await ds.destroy();
      ds = await dataSource(target.url, target.poolSize, [DriftedWidget]).initialize();
      const { upQueries } = await ds.driver.createSchemaBuilder().log();
      expect(upQueries.map((q) => q.query).join('\n')).toMatch(/ADD "weight" integer/);
    });
  });
});

describeWith(
  TEST_DATABASE_URL ? undefined : 'TEST_DATABASE_URL is not set',
  'migrating instances on real Postgres',
  () => {
    it('applies each migration once when two instances start migrating at the same time', async () => {
      const db = await freshDatabase(TEST_DATABASE_URL!);
      const a = await dataSource(db.url, 2).initialize();
      const b = await dataSource(db.url, 2).initialize();
      try {
        const [first, second] = await Promise.all([runPendingMigrations(a), runPendingMigrations(b)]);
        expect([...first, ...second]).toEqual(['CreatedWidgets1700000000000']);
        const [{ count }] = await a.query(`SELECT count(*)::int AS count FROM ${MIGRATIONS_TABLE}`);
        expect(count).toBe(1);
      } finally {
        await a.destroy();
        await b.destroy();
        await db.drop();
      }
    });
  },
);

describe('embedded database on disk', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scangate-pglite-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps its data across a restart', async () => {
    const dataDir = join(dir, 'postgres');
    const first = new EmbeddedPostgres(new LocalSecrets(), new PgliteFactory());
    let ds = await dataSource(await first.start(dataDir), 1).initialize();
    await runPendingMigrations(ds);
    await ds.getRepository(Widget).insert({ name: 'kept' });
    await ds.destroy();
    await first.stop();

    const second = new EmbeddedPostgres(new LocalSecrets(), new PgliteFactory());
    const started = performance.now();
    ds = await dataSource(await second.start(dataDir), 1).initialize();
    const restartMs = performance.now() - started;
    try {
      expect((await ds.getRepository(Widget).find()).map((w) => w.name)).toEqual(['kept']);
      expect(await runPendingMigrations(ds)).toEqual([]);
      // A figure, not a test: a loaded machine must not fail it (start-up speed belongs in npm run bench).
      process.stdout.write(`embedded database restart: ${Math.round(restartMs)} ms\n`);
    } finally {
      await ds.destroy();
      await second.stop();
    }
  });

  it('asks for its generated password (SCRAM-SHA-256): none or a wrong one is refused with 28P01; kept owner-only in the data folder', async () => {
    const dataDir = join(dir, 'guarded', 'postgres');
    const embedded = new EmbeddedPostgres(new LocalSecrets(), new PgliteFactory());
    const url = new URL(await embedded.start(dataDir));
    try {
      const attempt = async (password: string | undefined) => {
        const client = new pg.Client({
          host: url.hostname,
          port: Number(url.port),
          user: 'postgres',
          database: 'postgres',
          password,
        });
        try {
          await client.connect();
          return (await client.query('SELECT 1 AS one')).rows[0].one as number;
        } catch (error) {
          return (error as { code?: string }).code ?? String(error);
        } finally {
          await client.end().catch(() => undefined);
        }
      };
      expect(await attempt(undefined)).not.toBe(1);
      expect(await attempt('wrong password')).toBe('28P01');
      expect(await attempt(decodeURIComponent(url.password))).toBe(1);
      const file = join(dir, 'guarded', 'postgres.password');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await readFile(file, 'utf8')).trim()).toBe(decodeURIComponent(url.password));
    } finally {
      await embedded.stop();
    }
  }, 120_000);

  it('refuses a data folder that a live process holds, and takes over one left by a dead process', async () => {
    const dataDir = join(dir, 'locked');
    const holder = new EmbeddedPostgres(new LocalSecrets(), new PgliteFactory());
    await holder.start(dataDir);
    try {
      await expect(new EmbeddedPostgres(new LocalSecrets(), new PgliteFactory()).start(dataDir)).rejects.toThrow(
        /in use by process \d+/,
      );
    } finally {
      await holder.stop();
    }
    // A lock file naming a process that no longer exists does not block.
    await writeFile(join(dir, 'postgres.lock'), '2147483646');
    const next = new EmbeddedPostgres(new LocalSecrets(), new PgliteFactory());
    await expect(next.start(join(dir, 'postgres'))).resolves.toMatch(
      /^postgres:\/\/postgres:[A-Za-z0-9%]+@127\.0\.0\.1:\d+\/postgres$/,
    );
    await next.stop();
  });
});
