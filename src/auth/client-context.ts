import type { Request } from 'express';

/**
 * Where a request comes from, the one shape for it: the client's IP (per
 * TRUST_PROXY) and user agent, as sessions and audit events record them.
 * Admin's `Acting` adds who and which request; a status poll needs the IP only.
 */
export interface ClientContext {
  ip: string | null;
  userAgent: string | null;
}

/** The context of an HTTP request: the one place it is read from Express. */
export function clientContextOf(req: Request): ClientContext {
  return { ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null };
}
