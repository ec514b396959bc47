import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { RequestStrategy } from '../../common/index.js';
import type { Principal } from '../auth.principal.js';
import { AccessTokenService } from './access-token.service.js';

/** `Authorization: Bearer <token>` (the scheme in any case), as RFC 6750 § 2.1 sends it; undefined otherwise. */
export function bearerToken(req: Request): string | undefined {
  const match = /^bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
  return match?.[1];
}

/**
 * Passport's access-token strategy (`jwt`) for HTTP: the bearer token, verified
 * by AccessTokenService, the one verifier of access tokens (the sockets use it
 * too): signature (ES256 only, by `kid`), `iss`, `aud`, `exp`, the `at+jwt`
 * type, then one store lookup that refuses tokens of revoked sessions.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(RequestStrategy, 'jwt') {
  constructor(private readonly tokens: AccessTokenService) {
    super();
  }

  async validate(req: Request): Promise<Principal> {
    return (await this.tokens.verify(bearerToken(req))).principal;
  }
}
