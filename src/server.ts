import 'reflect-metadata';
import { networkInterfaces } from 'node:os';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { configureApp } from './app.setup.js';
import type { Config } from './config/index.js';

import { DemoUser } from './bootstrap/index.js';
import { AppLogger } from './logging/index.js';
import { VERSION } from './common/index.js';

/**
 * The server process after its configuration has been validated (`main.ts`):
 * starts the app, prints the banner, and shuts down cleanly on SIGTERM/SIGINT.
 * `fail` ends the process with one readable line.
 */
export async function serve(config: Config, startedAt: number, fail: (message: string) => never): Promise<void> {
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
  if (config.app.isProduction && !config.app.metricsToken) {
    logger.warn(
      'METRICS_TOKEN is not set: /metrics is public; set it, or keep /metrics off the public proxy',
      'Startup',
    );
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
    const { app: settings, database, store } = config;
    const embedded = database.mode === 'embedded';
    const mode = embedded
      ? 'embedded (zero configuration): Postgres is PGlite, the store is in-process'
      : `real services: Postgres at ${hostOf(database.url)}, ${store.mode === 'redis' ? `Redis at ${hostOf(store.url)}` : 'in-process store (one instance only)'}`;
    if (settings.isProduction) {
      logger.log({ url: settings.publicUrl, database: database.mode, store: store.mode, readyMs: ms }, 'Ready');
      return;
    }
    const lines = [
      `ScanGate ${VERSION} ready in ${ms} ms at ${settings.publicUrl} (${settings.env}; listening on ${settings.host}:${settings.port})`,
      `  mode: ${mode}`,
      `  data: ${embedded ? database.dataDir : 'in Postgres (DATABASE_URL)'}`,
      `  docs: ${settings.publicUrl}/api/docs   health: ${settings.publicUrl}/health/ready`,
      `  sign in: ${settings.publicUrl}/login (scan the QR with a phone, or open the link under it in a second window)`,
    ];
    const lan = lanAddress();
    if (lan && /^https?:\/\/(localhost|127\.0\.0\.1)(:|\/|$)/.test(settings.publicUrl)) {
      lines.push(
        `  a real phone: QR codes carry PUBLIC_URL, so run with PUBLIC_URL=http://${lan}:${settings.port} and scan from the same network`,
      );
    }
    const demo = app.get(DemoUser).credentials;
    if (demo) lines.push(`  demo user: login "${demo.login}", password "${demo.password}" (development only)`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }

  /** This machine's first non-internal IPv4 address, if any (for the phone hint). */
  function lanAddress(): string | undefined {
    return Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  }

  /** host:port/path of a service URL, never its credentials. */
  function hostOf(url: string | undefined): string {
    if (!url) return 'unknown';
    const u = new URL(url);
    return `${u.host}${u.pathname.length > 1 ? u.pathname : ''}`;
  }
}
