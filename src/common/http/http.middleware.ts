import type { NextFunction, Request, Response } from 'express';
import { UnsupportedMediaTypeError } from '../errors/app-error.js';

/** API answers are never cached by browsers or proxies (PROTOCOL.md). */
export function noStoreMiddleware(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Cache-Control', 'no-store');
  next();
}

/** The JSON API's prefix: only JSON bodies are read there. */
const API_PREFIX = '/api/v1/';

/**
 * `/api/v1` reads JSON bodies only: a body of any other type (a form post, a
 * `text/plain` one) is `415 unsupported_media_type` rather than silently read
 * as empty. A cross-site page can send those types without a CORS preflight,
 * so refusing them also closes that door (login CSRF). Requests without a body
 * pass. The sandboxes' pages, outside `/api/v1`, keep their form posts.
 */
export function jsonOnlyMiddleware(req: Request, _res: Response, next: NextFunction): void {
  if (!req.path.startsWith(API_PREFIX) || !hasBody(req) || isJson(req.headers['content-type'])) return next();
  next(new UnsupportedMediaTypeError());
}

function hasBody(req: Request): boolean {
  return (
    req.headers['transfer-encoding'] !== undefined ||
    (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0')
  );
}

/** `application/json`, or any `application/*+json`, with or without parameters. */
function isJson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}
