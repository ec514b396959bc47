import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AUTH_CONFIG, type AuthConfig } from '../../config/index.js';
import { AuthError } from '../auth.errors.js';
import type { AccessTokenClaims, Principal } from '../auth.principal.js';
import { SigningKeysService } from '../keys/signing-keys.service.js';
import { RevocationStore } from '../sessions/revocation.store.js';
import { decodeHeader, isAccessTokenHeader, principalOf } from './access-token.claims.js';

/**
 * Passport's JWT strategy: the signature (ES256 only, by `kid`), `iss`, `aud`,
 * `exp` and the `at+jwt` type are checked by jsonwebtoken; then one store
 * lookup refuses tokens of revoked sessions. No database query.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    keys: SigningKeysService,
    private readonly revocations: RevocationStore,
    @Inject(AUTH_CONFIG) config: AuthConfig,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      algorithms: ['ES256'],
      issuer: config.issuer,
      audience: config.audience,
      ignoreExpiration: false,
      // jsonwebtoken takes a KeyObject, though passport-jwt's types say string | Buffer.
      secretOrKeyProvider: (_req: unknown, rawJwt: string, done: (err: unknown, key?: string | Buffer) => void) => {
        const header = decodeHeader(rawJwt);
        if (!isAccessTokenHeader(header)) {
          done(new AuthError('auth.unauthenticated'));
          return;
        }
        keys.publicKey(header.kid).then(
          (key) => (key ? done(null, key as unknown as string) : done(new AuthError('auth.unauthenticated'))),
          (error: unknown) => done(error),
        );
      },
    });
  }

  async validate(claims: AccessTokenClaims): Promise<Principal> {
    const principal = principalOf(claims);
    if (!principal || (await this.revocations.isRevoked(principal.sessionId)))
      throw new AuthError('auth.unauthenticated');
    return principal;
  }
}
