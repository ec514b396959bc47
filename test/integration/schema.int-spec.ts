import { describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { readdirSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { migrations } from '../../migrations/index.js';
import { APP_ENTITIES } from '../../src/app.entities.js';
import { AppModule } from '../../src/app.module.js';
import { MIGRATIONS_TABLE } from '../../src/database/database.options.js';
import { freshDatabase } from '../support/fresh-database.js';
import { describeWith } from '../support/services.js';
import { TEST_DATABASE_URL, testConfig } from '../support/test-config.js';

describe('migrations/', () => {
  it('lists every migration file in migrations/index.ts, oldest first', () => {
    const files = readdirSync(new URL('../../migrations/', import.meta.url))
      .filter((f) => /^\d{13}-[A-Za-z0-9]+\.ts$/.test(f))
      .sort();
    const listed = migrations.map((m) => m.name);
    expect(listed).toEqual(files.map((f) => f.replace(/^(\d{13})-(\w+)\.ts$/, '$2$1')));
  });
});

/**
 * The application's own entities (every feature module's) against its own
 * migrations, as CI's `migration:check` does: after the start-up migration,
 * nothing is left to generate.
 */
async function schemaDrift(databaseUrl?: string): Promise<{ drift: string[]; applied: number; entities: string[] }> {
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.forRoot(testConfig(databaseUrl ? { DATABASE_URL: databaseUrl } : {}))],
  }).compile();
  const app = await moduleRef.init();
  try {
    const dataSource = app.get(DataSource);
    const { upQueries } = await dataSource.driver.createSchemaBuilder().log();
    const [{ count }] = await dataSource.query(`SELECT count(*)::int AS count FROM ${MIGRATIONS_TABLE}`);
    const entities = dataSource.entityMetadatas.map((m) => m.name).sort();
    return { drift: upQueries.map((q) => q.query), applied: count as number, entities };
  } finally {
    await app.close();
  }
}

describe('entities and migrations agree', () => {
  const entities = APP_ENTITIES.map((e) => e.name).sort();

  it('on the embedded database, with APP_ENTITIES (the migration CLI’s list) naming every entity the app registers', async () => {
    expect(await schemaDrift()).toEqual({ drift: [], applied: migrations.length, entities });
  });

  describeWith(TEST_DATABASE_URL ? undefined : 'TEST_DATABASE_URL is not set', 'on real Postgres', () => {
    it('after the start-up migration of a new database', async () => {
      const db = await freshDatabase(TEST_DATABASE_URL!);
      try {
        expect(await schemaDrift(db.url)).toEqual({ drift: [], applied: migrations.length, entities });
      } finally {
        await db.drop();
      }
    });
  });
});
