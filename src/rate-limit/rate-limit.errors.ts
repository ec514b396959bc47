import { AppError } from '../common/index.js';

const MESSAGES = {
  attempts: 'Too many attempts; wait a little and try again.',
  sockets: 'Too many connections are open for this QR code; close one and try again.',
} as const;

/**
 * Over a limit: 429 `rate_limited`, with `Retry-After` (whole seconds, at least
 * 1) when the wait is known. `attempts`: a counted limit; `sockets`: a cap on
 * open connections, which frees up as soon as one closes.
 */
export class RateLimitedError extends AppError<'rate_limited'> {
  constructor(reason: keyof typeof MESSAGES, retryAfterMs?: number) {
    super(
      'rate_limited',
      MESSAGES[reason],
      undefined,
      retryAfterMs === undefined ? undefined : { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
    );
  }
}
