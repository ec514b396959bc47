import { ERROR_STATUS, type ErrorCode, type ErrorDetail } from './error-codes.js';

/**
 * Base of every domain error. Services throw these (never `HttpException`); the
 * global filter turns them into the envelope with the status of `ERROR_STATUS`.
 * Domains subclass it with their own narrower code type.
 */
export class AppError<C extends ErrorCode = ErrorCode> extends Error {
  constructor(
    readonly code: C,
    message: string,
    readonly details?: ErrorDetail[],
    /** Extra response headers, e.g. `Retry-After` for `rate_limited`. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = new.target.name;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** Request input does not match its schema. */
export class ValidationError extends AppError<'validation.failed'> {
  constructor(details: ErrorDetail[], message = 'The request is not valid.') {
    super('validation.failed', message, details);
  }
}

/** A request body of a type the route does not read (the JSON API reads JSON only). */
export class UnsupportedMediaTypeError extends AppError<'unsupported_media_type'> {
  constructor(message = 'The request body must be JSON (Content-Type: application/json).') {
    super('unsupported_media_type', message);
  }
}

/** A resource (or route) that does not exist. */
export class NotFoundError extends AppError<'not_found'> {
  constructor(message = 'Not found.') {
    super('not_found', message);
  }
}
