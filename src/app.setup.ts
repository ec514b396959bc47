import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import { answerClientErrors, jsonOnlyMiddleware, noStoreMiddleware } from './common/index.js';

import {
  APP_CONFIG,
  REALTIME_CONFIG,
  STORE_CONFIG,
  type AppConfig,
  type RealtimeConfig,
  type StoreConfig,
} from './config/index.js';
import { AppLogger, requestIdMiddleware } from './logging/index.js';

import { MetricsService } from './metrics/index.js';
import { setupOpenApi } from './openapi/index.js';
import { RealtimeIoAdapter } from './realtime/index.js';

/**
 * The HTTP conventions of PROTOCOL.md, in one place and in order, shared by
 * main.ts and the e2e tests (which must test the app as it really runs).
 * The application must be created with `{ bodyParser: false, bufferLogs: true }`.
 */
export function configureApp(app: NestExpressApplication): NestExpressApplication {
  const config = app.get<AppConfig>(APP_CONFIG);
  app.useLogger(app.get(AppLogger));
  app.flushLogs();

  app.set('trust proxy', config.trustProxy);
  answerClientErrors(app.getHttpServer());
  app.use(requestIdMiddleware);
  app.use(app.get(MetricsService).middleware);
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          // Plain-http development (a phone on the LAN) must not be upgraded to https.
          upgradeInsecureRequests: config.publicUrl.startsWith('https://') ? [] : null,
        },
      },
      strictTransportSecurity: config.isProduction ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    }),
  );
  app.use(noStoreMiddleware);
  if (config.corsOrigins.length > 0) {
    app.enableCors({
      origin: config.corsOrigins,
      credentials: true,
      exposedHeaders: ['X-Request-Id', 'Retry-After', 'ETag'],
      maxAge: 600,
    });
  }
  app.use(jsonOnlyMiddleware);
  app.useBodyParser('json', { limit: config.bodyLimit, type: ['application/json', 'application/*+json'] });
  app.useBodyParser('urlencoded', { limit: config.bodyLimit, extended: false });
  if (config.apiDocs) setupOpenApi(app, config.publicUrl);
  app.useWebSocketAdapter(
    new RealtimeIoAdapter(app, {
      app: config,
      realtime: app.get<RealtimeConfig>(REALTIME_CONFIG),
      store: app.get<StoreConfig>(STORE_CONFIG),
    }),
  );
  return app;
}
