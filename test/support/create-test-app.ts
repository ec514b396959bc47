import type { DynamicModule, Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import { AppModule } from '../../src/app.module.js';
import { configureApp } from '../../src/app.setup.js';
import type { Config } from '../../src/config/config.types.js';
import { LOG_DESTINATION } from '../../src/logging/logging.module.js';
import { MemoryLog } from './memory-log.js';
import { testConfig } from './test-config.js';

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
 */
export async function createTestApp(
  options: {
    config?: Config;
    controllers?: Type[];
    imports?: Array<Type | DynamicModule>;
    override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
    /** Listen on the configuration's PORT (so that PUBLIC_URL can name the real address) instead of a random one. */
    listenOnConfigPort?: boolean;
  } = {},
): Promise<TestApp> {
  const config = options.config ?? testConfig({ LOG_LEVEL: 'info' });
  const log = sharedLog;
  let builder = Test.createTestingModule({
    imports: [AppModule.forRoot(config), ...(options.imports ?? [])],
    controllers: options.controllers ?? [],
  })
    .overrideProvider(LOG_DESTINATION)
    .useValue(log);
  if (options.override) builder = options.override(builder);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, bufferLogs: true });
  configureApp(app);
  await app.listen(options.listenOnConfigPort ? config.app.port : 0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    log,
    close: () => app.close(),
  };
}
