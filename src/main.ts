import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { configureApp } from './app.setup.js';
import { ConfigError, loadConfig } from './config/config.loader.js';
import type { Config } from './config/config.types.js';
import { AppLogger } from './logging/app.logger.js';
import { VERSION } from './version.js';

const startedAt = performance.now();

function fail(message: string): never {
  process.stderr.write(`scangate: ${message}\n`);
  process.exit(1);
}

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}

let app: NestExpressApplication;
try {
  app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false,
    bufferLogs: true,
    // A failed start prints our one line below, not Nest's buffered stack trace.
    autoFlushLogs: false,
    abortOnError: false,
  });
  configureApp(app);
  await app.listen(config.app.port, config.app.host);
} catch (error) {
  fail(`could not start: ${error instanceof Error ? error.message : String(error)}`);
}

const logger = app.get(AppLogger);
printBanner(config, Math.round(performance.now() - startedAt));
if (config.app.isProduction && !config.app.rateLimits) {
  logger.warn('RATE_LIMITS=off: every rate limit is disabled', 'Startup');
}
if (config.store.mode === 'memory' && config.app.isProduction) {
  logger.warn('REDIS_URL is not set: the in-process store serves one instance only', 'Startup');
}

/**
 * SIGTERM/SIGINT: stop accepting connections, let in-flight requests finish,
 * close the pools; give up after SHUTDOWN_GRACE_MS.
 */
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: shutting down`, 'Shutdown');
    setTimeout(() => {
      logger.error(`Still busy after ${config.app.shutdownGraceMs} ms: exiting anyway`, 'Shutdown');
      process.exit(1);
    }, config.app.shutdownGraceMs).unref();
    app
      .close()
      .then(() => {
        logger.log('Shut down cleanly', 'Shutdown');
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error(`Shutdown failed: ${error instanceof Error ? error.message : String(error)}`, 'Shutdown');
        process.exit(1);
      });
  });
}

function printBanner(config: Config, ms: number): void {
  const database =
    config.database.mode === 'embedded' ? `embedded Postgres (PGlite) in ${config.database.dataDir}` : 'Postgres at DATABASE_URL';
  const store = config.store.mode === 'memory' ? 'in-process store' : 'Redis at REDIS_URL';
  const lines = [
    `ScanGate ${VERSION} ready in ${ms} ms: ${config.app.publicUrl} (listening on ${config.app.host}:${config.app.port}, ${config.app.env})`,
    `  mode: ${config.database.mode === 'embedded' ? 'embedded' : 'real services'}: ${database}, ${store}`,
    `  API docs: ${config.app.publicUrl}/api/docs · health: ${config.app.publicUrl}/health/ready`,
  ];
  if (config.app.isProduction) {
    logger.log({ url: config.app.publicUrl, database: config.database.mode, store: config.store.mode, readyMs: ms }, 'Ready');
  } else {
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}
