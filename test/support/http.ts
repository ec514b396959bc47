import { expect } from '@jest/globals';
import type { Response } from 'supertest';

/** Asserts the error envelope: status, code, and a request id matching the header. */
export function expectError(res: Response, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  expect(res.body.requestId).toBe(res.headers['x-request-id']);
  expect(typeof res.body.message).toBe('string');
}

/** The `sg_refresh` Set-Cookie line of a response, if any. */
export function refreshSetCookie(res: Response): string | undefined {
  return ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('sg_refresh='));
}

/** `sg_refresh=<token>` from a Set-Cookie line (what a browser sends back). */
export const cookiePair = (setCookie: string) => setCookie.split(';')[0]!;
export const cookieToken = (setCookie: string) => decodeURIComponent(cookiePair(setCookie).slice('sg_refresh='.length));
