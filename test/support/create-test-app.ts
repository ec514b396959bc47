import type { DynamicModule, Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { afterAll, beforeAll } from '@jest/globals';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import { AppModule } from '../../src/app.module.js';
import { configureApp } from '../../src/app.setup.js';
import type { Config } from '../../src/config/config.types.js';
import { LOG_DESTINATION } from '../../src/logging/logging.module.js';
import { MemoryLog } from './memory-log.js';
import { migratedDatabase } from './fresh-database.js';
import { TEST_DATABASE_URL, testConfig } from './test-config.js';

/**
 * nestjs-pino builds one pino-http logger per process (per test file under
 * jest) on first use, with the first app's destination and level: every app a
 * test file creates therefore shares this one log.
 */
const sharedLog = new MemoryLog();

export interface TestApp {
  app: NestExpressApplication;
  /** Base URL of the listening server, e.g. http://127.0.0.1:41234 */
  url: string;
  log: MemoryLog;
  close(): Promise<void>;
}

/**
 * The whole application, configured exactly as main.ts does, listening on a
 * random loopback port: e2e tests talk to it over real HTTP. Only true
 * externals are replaced (`override`); `controllers` adds test-only routes.
 *
 * A configuration that asks for the embedded database in memory (testConfig's
 * default) gets a new database of its own on the real Postgres when
 * TEST_DATABASE_URL is set (dropped by `close`), unless `database: 'embedded'`
 * insists on PGlite: suites that prove the embedded defaults say so.
 */
export async function createTestApp(
  options: {
    config?: Config;
    controllers?: Type[];
    imports?: Array<Type | DynamicModule>;
    override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
    /** Listen on the configuration's PORT (so that PUBLIC_URL can name the real address) instead of a random one. */
    listenOnConfigPort?: boolean;
    /** `embedded`: PGlite even when a real Postgres is configured. */
    database?: 'embedded' | 'any';
  } = {},
): Promise<TestApp> {
  let config = options.config ?? testConfig({ LOG_LEVEL: 'info' });
  const disposals: Array<() => Promise<void>> = [];
  const dispose = async () => {
    for (const step of disposals.splice(0).reverse()) await step();
  };
  try {
    const inMemory = config.database.mode === 'embedded' && config.database.dataDir === 'memory://';
    if (inMemory && options.database !== 'embedded' && TEST_DATABASE_URL) {
      const db = await migratedDatabase(TEST_DATABASE_URL);
      disposals.push(() => db.drop());
      config = { ...config, database: { ...config.database, mode: 'external', url: db.url, poolSize: 4 } };
    }
    let builder = Test.createTestingModule({
      imports: [AppModule.forRoot(config), ...(options.imports ?? [])],
      controllers: options.controllers ?? [],
    })
      .overrideProvider(LOG_DESTINATION)
      .useValue(sharedLog);
    if (options.override) builder = options.override(builder);
    const moduleRef = await builder.compile();
    const app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, bufferLogs: true });
    disposals.push(() => app.close());
    configureApp(app);
    await app.listen(options.listenOnConfigPort ? config.app.port : 0, '127.0.0.1');
    const address = app.getHttpServer().address() as { port: number };
    return { app, url: `http://127.0.0.1:${address.port}`, log: sharedLog, close: dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/**
 * One app for the whole describe block it is called in: made before its first
 * test, closed after its last. The answer reads through to that app, so tests
 * use it as a TestApp (`t.url`, `t.app.get(…)`).
 */
export function suiteApp(options: Parameters<typeof createTestApp>[0] = {}): TestApp {
  let current: TestApp | undefined;
  beforeAll(async () => {
    current = await createTestApp(options);
  });
  afterAll(async () => {
    await current?.close();
  });
  const up = (): TestApp => {
    if (!current) throw new Error('The suite app is not up (did its beforeAll fail?)');
    return current;
  };
  return {
    get app() {
      return up().app;
    },
    get url() {
      return up().url;
    },
    get log() {
      return up().log;
    },
    close: () => up().close(),
  };
}
