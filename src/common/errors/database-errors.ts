import { QueryFailedError } from 'typeorm';

/*
 * How the one error mapping (AllExceptionsFilter) recognises what Postgres
 * and its driver throw: the database's own errors belong to no module's
 * domain, so they are classified here, by their shape.
 */

/**
 * Postgres class 22, "data exception" (a NUL byte in text, a value out of
 * range, text that is not a uuid, …): a value from the request that the
 * database cannot take. Validation should have caught it; if it did not, the
 * client still gets a 400, never a 500.
 */
export function isDataException(error: unknown): boolean {
  const code =
    error instanceof QueryFailedError ? (error.driverError as { code?: unknown } | undefined)?.code : undefined;
  return typeof code === 'string' && code.startsWith('22');
}

/** Postgres codes of a server going away: connection exceptions (08…), shutdowns, too many connections. */
const UNAVAILABLE_CODES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** What the `pg` driver says when the connection is lost or cannot be made (it sets no code). */
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection terminated due to connection timeout|Client was closed/;

/**
 * Postgres cannot be reached or went away mid-query: the request is answered
 * `503 store.unavailable` (PROTOCOL.md), not 500. Whatever the statement was,
 * it was not committed (a lost connection rolls its transaction back).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  // By shape, not `instanceof Error`: errors of Node's own `net` module come from another realm under Jest's VM.
  const cause = (error instanceof QueryFailedError ? error.driverError : error) as
    { code?: unknown; message?: unknown } | null | undefined;
  if (typeof cause !== 'object' || cause === null) return false;
  const { code, message } = cause;
  if (typeof code === 'string' && (code.startsWith('08') || UNAVAILABLE_CODES.has(code))) return true;
  return typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message);
}
