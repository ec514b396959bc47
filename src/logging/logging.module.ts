import { Global, Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LOG_CONFIG, type LogConfig } from '../config/index.js';
import { redactPaths, redactUrl, REDACTED } from './log-redaction.js';
import { requestIdOf } from './request-id.js';
import { AppLogger } from './app.logger.js';

/** Where log lines go: stdout, or a memory stream in tests (`overrideProvider`). */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

/** Paths whose successful requests are not logged (probes and scrapes, every few seconds). */
const QUIET_PATHS = /^\/(health\/(live|ready)|metrics)(\?|$)/;

@Global()
@Module({ providers: [{ provide: LOG_DESTINATION, useValue: process.stdout }], exports: [LOG_DESTINATION] })
class LogDestinationModule {}

/**
 * Structured JSON logs through nestjs-pino: one line per request plus the
 * application's own lines, each carrying `requestId` when it belongs to a
 * request. Secrets are redacted wherever they travel (`log-redaction.ts`).
 */
@Module({
  imports: [
    LogDestinationModule,
    LoggerModule.forRootAsync({
      inject: [LOG_CONFIG, LOG_DESTINATION],
      useFactory: (config: LogConfig, destination: NodeJS.WritableStream) => ({
        // The QR status poll is the hottest route (every waiting browser, every second or
        // long-held): building a per-request logger there cost a quarter of its CPU and
        // ~2 KB per waiting request. Its errors are still logged, with the request id, by the
        // exception filter; successful polls are not access-logged.
        exclude: [{ path: 'api/v1/qr-sessions/:id', method: RequestMethod.GET }],
        pinoHttp: [
          {
            level: config.level,
            base: { service: 'scangate' },
            messageKey: 'msg',
            redact: { paths: redactPaths(), censor: REDACTED },
            // The request id was set by the request-id middleware (first in the chain).
            genReqId: (req: IncomingMessage) => requestIdOf(req),
            customAttributeKeys: { reqId: 'requestId' },
            quietReqLogger: true,
            autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.test(req.url ?? '') },
            customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) =>
              error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
            serializers: {
              req: (req: {
                id?: string;
                method?: string;
                url?: string;
                raw?: IncomingMessage;
                remoteAddress?: string;
              }) => ({
                method: req.method,
                url: redactUrl(req.raw?.url ?? req.url ?? ''),
                ip: (req.raw as { ip?: string } | undefined)?.ip ?? req.remoteAddress,
                userAgent: req.raw?.headers['user-agent'],
              }),
              res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
            },
          },
          destination,
        ],
      }),
    }),
  ],
  providers: [AppLogger],
  exports: [AppLogger],
})
export class LoggingModule {}
