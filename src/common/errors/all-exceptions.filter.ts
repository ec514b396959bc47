import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { requestIdOf } from '../../logging/index.js';
import { AppError } from './app-error.js';
import { isDatabaseUnavailable, isDataException } from './database-errors.js';
import { ERROR_STATUS, type ErrorCode, type ErrorEnvelope } from './error-codes.js';

/** Codes for errors Nest or Express raise themselves, by HTTP status. */
const CODE_BY_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'validation.failed',
  401: 'auth.unauthenticated',
  403: 'auth.forbidden',
  404: 'not_found',
  405: 'not_found',
  409: 'conflict',
  412: 'precondition_failed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'store.unavailable',
};

const DEFAULT_MESSAGES: Partial<Record<ErrorCode, string>> = {
  'validation.failed': 'The request is not valid.',
  not_found: 'No such route or resource.',
  payload_too_large: 'The request body is too large.',
  unsupported_media_type: 'The request body must be JSON (Content-Type: application/json).',
  internal: 'Something went wrong on our side; the request id has been logged.',
};

/** What body-parser (inside Express) throws for a bad body. */
interface BodyParserError extends Error {
  type?: string;
  status?: number;
  expose?: boolean;
}

/**
 * The one mapping from any thrown error to the error envelope of PROTOCOL.md:
 * domain errors (`AppError`) keep their code and status; Nest's and Express's
 * own errors (unknown route, malformed JSON, oversize body, …) get the code of
 * their status; anything else is a 500 `internal`, logged with its request id
 * and stack, never shown to the client.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    this.respond(exception, http.getRequest<Request>(), http.getResponse<Response>());
  }

  /**
   * Answers `exception` with the envelope. Also for handlers that answer later
   * on their own (the long poll), outside Nest's call chain.
   */
  respond(exception: unknown, req: Request, res: Response): void {
    const requestId = requestIdOf(req);
    const { status, envelope, headers } = errorEnvelope(exception, requestId);

    if (envelope.code === 'store.unavailable' && !(exception instanceof AppError)) {
      this.logger.warn(
        { requestId },
        `Database unavailable on ${req.method} ${req.route?.path ?? 'unmatched route'}: ${exception instanceof Error ? exception.message : String(exception)}`,
      );
    }
    if (status >= 500 && envelope.code === 'internal') {
      const error = exception instanceof Error ? exception : new Error(String(exception));
      this.logger.error(
        { err: error, requestId },
        `Unexpected error on ${req.method} ${req.route?.path ?? 'unmatched route'}`,
      );
    }
    if (isDataException(exception)) {
      // A hole in validation: worth fixing, but the client's fault. The driver's message may quote the value: not logged.
      const code = (exception as { driverError?: { code?: string } }).driverError?.code;
      this.logger.warn(
        { requestId, pgCode: code },
        `Database refused a request value on ${req.method} ${req.route?.path ?? 'unmatched route'}`,
      );
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    for (const [name, value] of Object.entries(headers ?? {})) res.setHeader(name, value);
    res.setHeader('Cache-Control', 'no-store');
    res.status(status).json(envelope);
  }
}

/**
 * The envelope (and HTTP status, headers) of any thrown error: the one mapping
 * for HTTP answers and socket errors alike. An `internal` one says nothing of
 * the error itself: log it with the request id.
 */
export function errorEnvelope(
  exception: unknown,
  requestId: string,
): { status: number; envelope: ErrorEnvelope; headers?: Record<string, string> } {
  if (exception instanceof AppError) {
    const envelope: ErrorEnvelope = { code: exception.code, message: exception.message, requestId };
    if (exception.details) envelope.details = exception.details;
    return { status: exception.status, envelope, headers: exception.headers };
  }
  if (isDatabaseUnavailable(exception)) {
    return {
      status: 503,
      envelope: { code: 'store.unavailable', message: 'The database is unavailable; try again shortly.', requestId },
      headers: { 'Retry-After': '1' },
    };
  }
  if (isDataException(exception)) {
    return {
      status: 400,
      envelope: {
        code: 'validation.failed',
        message: 'The request holds a value that cannot be stored (e.g. a NUL character or a number out of range).',
        requestId,
      },
    };
  }
  const status = statusOf(exception);
  const code =
    status === undefined ? 'internal' : (CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal' : 'validation.failed'));
  return {
    status: ERROR_STATUS[code],
    envelope: { code, message: messageOf(exception, code), requestId },
  };
}

function statusOf(exception: unknown): number | undefined {
  if (exception instanceof HttpException) return exception.getStatus();
  const e = exception as BodyParserError;
  if (e instanceof Error && typeof e.status === 'number' && e.expose) return e.status;
  return undefined;
}

function messageOf(exception: unknown, code: ErrorCode): string {
  // Express's own errors reach the filter wrapped by Nest, the original as `cause`.
  const e = ((exception as { cause?: unknown })?.cause ?? exception) as BodyParserError;
  if (e?.type === 'entity.parse.failed') return 'The request body is not valid JSON.';
  if (e?.type === 'entity.too.large') return DEFAULT_MESSAGES.payload_too_large!;
  if (e instanceof URIError) return 'The request URL is not valid (bad percent-encoding).';
  if (code === 'not_found') return DEFAULT_MESSAGES.not_found!;
  if (code === 'internal') return DEFAULT_MESSAGES.internal!;
  if (exception instanceof HttpException && code !== 'validation.failed') return exception.message;
  return DEFAULT_MESSAGES[code] ?? 'The request could not be processed.';
}
