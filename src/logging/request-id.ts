import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An incoming `X-Request-Id` is kept when it is short and harmless, else replaced. */
const ACCEPTABLE = /^[A-Za-z0-9._:-]{1,128}$/;

type WithId = IncomingMessage & { id?: string };

/**
 * First middleware of the chain: every request gets an id (the client's
 * `X-Request-Id`, or a new UUID), echoed in the response header, carried by
 * every log line and every error envelope.
 */
export function requestIdMiddleware(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && ACCEPTABLE.test(incoming) ? incoming : randomUUID();
  (req as WithId).id = id;
  res.setHeader('X-Request-Id', id);
  next();
}

/** The id given by `requestIdMiddleware` (a new one if it has not run). */
export function requestIdOf(req: IncomingMessage): string {
  const r = req as WithId;
  r.id ??= randomUUID();
  return r.id;
}
