import type { Response } from 'express';

/** The browser key that binds a login's state to the browser that started it (see OAuthStateStore). */
export const OAUTH_BROWSER_COOKIE = 'sg_oauth';
/**
 * Sent to the API: the callback reads it, and so do the starts of linking and
 * reauth (`/api/v1/me/identities/…`, `/api/v1/auth/reauth/…`), which must
 * reuse this browser's key rather than replace it and break a sign-in in
 * progress in another tab.
 */
const OAUTH_COOKIE_PATH = '/api/v1';

/** HttpOnly, SameSite=Lax (the provider's redirect back is a top-level GET), 10 minutes. */
export function setBrowserCookie(res: Response, key: string, secure: boolean): void {
  res.cookie(OAUTH_BROWSER_COOKIE, key, {
    httpOnly: true,
    secure,
    sameSite: 'lax',
    path: OAUTH_COOKIE_PATH,
    maxAge: 10 * 60_000,
  });
}
