import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_ENTITIES } from '../app.entities.js';
import { ClockModule, runCli } from '../common/index.js';
import { loadConfig, ConfigModule, type Config } from '../config/index.js';

import { DatabaseModule } from './database.module.js';
import { pendingMigrations, revertLastMigration, runPendingMigrations } from './migration.runner.js';

/**
 * `npm run migration:<command>`: run | revert | show | check | generate <Name>.
 * It boots only the database with every entity (`APP_ENTITIES`), against the
 * configured database (DATABASE_URL, or the embedded one under DATA_DIR): the
 * features, which may need their tables at start, do not run.
 *
 * - `generate <Name>` diffs the entities against the migrated database and writes
 *   `migrations/<timestamp>-<Name>.ts` (read and edit it before committing), then
 *   lists it in `migrations/index.ts`. It prints "No changes detected" when the
 *   schema already matches.
 * - `check` exits 1 when the entities need a migration that does not exist.
 */
const USAGE = 'usage: migrations (run | revert | show | check | generate <PastTenseName>)';
const MIGRATIONS_DIR = resolve('migrations');

@Module({})
class MigrationsCliModule {
  static forRoot(config: Config) {
    return {
      module: MigrationsCliModule,
      imports: [ConfigModule.forRoot(config), ClockModule, DatabaseModule, TypeOrmModule.forFeature(APP_ENTITIES)],
    };
  }
}

async function main(): Promise<number> {
  const [command, name] = process.argv.slice(2);
  if (!command || !['run', 'revert', 'show', 'check', 'generate'].includes(command)) {
    console.error(USAGE);
    return 2;
  }
  if (command === 'generate' && !/^[A-Z][A-Za-z0-9]{2,80}$/.test(name ?? '')) {
    console.error('generate needs a PascalCase name in the past tense, e.g. CreatedUsers');
    return 2;
  }
  const config = loadConfig();
  config.database.migrateOnStart = false;
  const app = await NestFactory.createApplicationContext(MigrationsCliModule.forRoot(config), {
    logger: ['error', 'warn'],
    abortOnError: false,
  });
  try {
    const dataSource = app.get(DataSource);
    switch (command) {
      case 'run': {
        const applied = await runPendingMigrations(dataSource);
        console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'No pending migrations.');
        return 0;
      }
      case 'revert':
        await revertLastMigration(dataSource);
        console.log('Reverted the last migration.');
        return 0;
      case 'show': {
        const pending = await pendingMigrations(dataSource);
        console.log(pending.length ? `Pending: ${pending.join(', ')}` : 'No pending migrations.');
        return 0;
      }
      case 'check':
      case 'generate': {
        const pending = await pendingMigrations(dataSource);
        if (pending.length > 0) {
          console.error(`Apply the pending migrations first (npm run migration:run): ${pending.join(', ')}`);
          return 1;
        }
        const { upQueries, downQueries } = await dataSource.driver.createSchemaBuilder().log();
        if (upQueries.length === 0) {
          console.log('No changes detected: entities and migrations agree.');
          return 0;
        }
        if (command === 'check') {
          console.error(`Entities and migrations disagree; ${upQueries.length} change(s) would be generated:`);
          for (const q of upQueries) console.error(`  ${q.query}`);
          return 1;
        }
        const file = await writeMigration(
          name!,
          upQueries.map((q) => q.query),
          downQueries.map((q) => q.query).reverse(),
        );
        console.log(`Wrote ${file}: read it, edit it if needed, then build and run it.`);
        return 0;
      }
    }
    return 2;
  } finally {
    await app.close();
  }
}

async function writeMigration(name: string, up: string[], down: string[]): Promise<string> {
  const timestamp = Date.now();
  const className = `${name}${timestamp}`;
  const fileBase = `${timestamp}-${name}`;
  const literal = (sql: string) => `\`${sql.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${')}\``;
  const body = (queries: string[]) => queries.map((q) => `    await queryRunner.query(${literal(q)});`).join('\n');
  const source = `import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ${className} implements MigrationInterface {
  name = '${className}';

  async up(queryRunner: QueryRunner): Promise<void> {
${body(up)}
  }

  async down(queryRunner: QueryRunner): Promise<void> {
${body(down)}
  }
}
`;
  await mkdir(MIGRATIONS_DIR, { recursive: true });
  const file = join(MIGRATIONS_DIR, `${fileBase}.ts`);
  await writeFile(file, source, { flag: 'wx' });
  await registerMigration(className, fileBase);
  return file;
}

/** Appends the migration to the list in `migrations/index.ts`. */
async function registerMigration(className: string, fileBase: string): Promise<void> {
  const indexFile = join(MIGRATIONS_DIR, 'index.ts');
  let index = await readFile(indexFile, 'utf8');
  const importLine = `import { ${className} } from './${fileBase}.js';\n`;
  index = index.replace(/(import type \{ MigrationInterface \} from 'typeorm';\n)/, `$1${importLine}`);
  index = index.replace(
    /export const migrations: Array<new \(\) => MigrationInterface> = \[([\s\S]*?)\];/,
    (_m, items: string) => {
      const list = items
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      list.push(className);
      return `export const migrations: Array<new () => MigrationInterface> = [\n${list.map((c) => `  ${c},`).join('\n')}\n];`;
    },
  );
  await writeFile(indexFile, index);
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d+-.+\.ts$/.test(f));
  if (!files.includes(`${fileBase}.ts`)) throw new Error('migration file missing after write');
}

runCli('migrations', main);
