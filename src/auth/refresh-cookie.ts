import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { readCookie } from '../common/index.js';
import { APP_CONFIG, AUTH_CONFIG, type AppConfig, type AuthConfig } from '../config/index.js';
import { AuthError } from './auth.errors.js';
import type { Session } from './sessions/session.entity.js';

const REFRESH_COOKIE = 'sg_refresh';
/** The cookie travels only to the auth routes (refresh, logout). */
const REFRESH_COOKIE_PATH = '/api/v1/auth';

/**
 * The web session's refresh token lives only in an HttpOnly cookie: never in a
 * response body, never readable by scripts. Every route that sets or uses it
 * (web sign-in, QR exchange, refresh, sign-out) refuses a request from another
 * site: an `Origin` that is neither the public URL nor a CORS origin. Refresh,
 * which the cookie alone authenticates, also needs the header to be there.
 * (The OAuth callback sets it too, but is a top-level navigation from the
 * provider, without `Origin`: its one-time state bound to this browser is
 * what proves the browser started the login.)
 */
@Injectable()
export class RefreshCookie {
  private readonly allowedOrigins: Set<string>;

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(APP_CONFIG) app: AppConfig,
  ) {
    this.allowedOrigins = new Set([app.publicUrl, ...app.corsOrigins]);
  }

  set(res: Response, token: string, session: Pick<Session, 'refreshExpiresAt'>): void {
    res.cookie(REFRESH_COOKIE, token, {
      httpOnly: true,
      secure: this.config.secureCookies,
      sameSite: 'lax',
      path: REFRESH_COOKIE_PATH,
      expires: session.refreshExpiresAt,
    });
  }

  clear(res: Response): void {
    res.clearCookie(REFRESH_COOKIE, {
      httpOnly: true,
      secure: this.config.secureCookies,
      sameSite: 'lax',
      path: REFRESH_COOKIE_PATH,
    });
  }

  read(req: Request): string | undefined {
    return readCookie(req, REFRESH_COOKIE);
  }

  /**
   * Refuses a request from another site (login CSRF: its answer would set the
   * cookie of someone else's session in this browser). `required`: a request
   * without `Origin` is refused too (refresh, which the cookie authenticates).
   */
  assertAllowedOrigin(req: Request, options: { required?: boolean } = {}): void {
    const origin = req.get('origin');
    if (origin === undefined ? options.required : !this.allowedOrigins.has(origin)) {
      throw new AuthError('auth.forbidden', 'This request must come from the sign-in page’s own origin.');
    }
  }
}
