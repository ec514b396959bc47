import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy } from 'passport-strategy';
import type { ClientContext } from '../auth/index.js';
import { readCookie } from '../common/index.js';
import { OAUTH_BROWSER_COOKIE } from './oauth-cookies.js';
import { OAuthService, type OAuthOutcome } from './oauth.service.js';

type Verify = (req: Request, done: (error: unknown, outcome?: OAuthOutcome) => void) => void;

/** A Passport strategy whose whole work is one callback on the request (as passport-custom does). */
class RequestStrategy extends Strategy {
  constructor(private readonly verify: Verify) {
    super();
  }

  override authenticate(req: Request): void {
    this.verify(req, (error, outcome) => (error ? this.error(error as Error) : this.success(outcome!)));
  }
}

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
    const context: ClientContext = { ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null };
    return this.oauth.complete(
      String(req.params.provider),
      req.query as Record<string, unknown>,
      readCookie(req, OAUTH_BROWSER_COOKIE),
      context,
    );
  }
}
