import type { NextFunction, Request, Response } from 'express';

/** API answers are never cached by browsers or proxies (PROTOCOL.md). */
export function noStoreMiddleware(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Cache-Control', 'no-store');
  next();
}
