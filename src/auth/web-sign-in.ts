import { Injectable } from '@nestjs/common';
import type { Response } from 'express';
import type { SignedIn } from './auth.service.js';
import { RefreshCookie } from './refresh-cookie.js';

/**
 * The one way a web sign-in reaches the browser, whatever made it (password,
 * QR exchange, OAuth callback, and the coming OIDC hand-off): the refresh
 * token only as the HttpOnly cookie (never in a body or a URL), the access
 * token in the body part returned here. Each route adds its own user view.
 */
@Injectable()
export class WebSignIn {
  constructor(private readonly cookie: RefreshCookie) {}

  respond(res: Response, signedIn: SignedIn): { accessToken: string; expiresIn: number } {
    if (signedIn.session.kind !== 'web') throw new Error('WebSignIn answers web sessions only');
    this.cookie.set(res, signedIn.refreshToken, signedIn.session);
    return { accessToken: signedIn.accessToken, expiresIn: signedIn.expiresIn };
  }
}
