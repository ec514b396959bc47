import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { clientContextOf } from '../auth/index.js';
import { readCookie, RequestStrategy } from '../common/index.js';
import { OAUTH_BROWSER_COOKIE } from './oauth-cookies.js';
import { OAuthService, type OAuthOutcome } from './oauth.service.js';

/**
 * The one Passport strategy of every third-party provider (`oauth`): the
 * callback route's `:provider` picks the provider; the OAuth service checks the
 * state, exchanges the code and maps the person. `req.user` is the outcome.
 */
@Injectable()
export class OAuthStrategy extends PassportStrategy(RequestStrategy, 'oauth') {
  constructor(private readonly oauth: OAuthService) {
    super();
  }

  async validate(req: Request): Promise<OAuthOutcome> {
    const context = clientContextOf(req);
    return this.oauth.complete(
      String(req.params.provider),
      req.query as Record<string, unknown>,
      readCookie(req, OAUTH_BROWSER_COOKIE),
      context,
    );
  }
}
