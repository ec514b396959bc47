import type { Response } from 'express';

/** The browser key that binds a login's state to the browser that started it (see OAuthStateStore). */
export const OAUTH_BROWSER_COOKIE = 'sg_oauth';
/** Sent only to the OAuth routes (the callback reads it). */
export const OAUTH_COOKIE_PATH = '/api/v1/oauth';

/** HttpOnly, SameSite=Lax (the provider's redirect back is a top-level GET), 10 minutes. */
export function setBrowserCookie(res: Response, key: string, secure: boolean): void {
  res.cookie(OAUTH_BROWSER_COOKIE, key, { httpOnly: true, secure, sameSite: 'lax', path: OAUTH_COOKIE_PATH, maxAge: 10 * 60_000 });
}
