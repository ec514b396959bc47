import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AUTH_CONFIG, type AuthConfig } from '../../config/config.types.js';
import { UnauthenticatedError } from '../auth.errors.js';
import type { AccessTokenClaims, Principal } from '../auth.principal.js';
import { SigningKeysService } from '../keys/signing-keys.service.js';
import { RevocationStore } from '../sessions/revocation.store.js';

/** No access token may live longer than this (PROTOCOL.md: at most 15 minutes). */
const MAX_ACCESS_TOKEN_TTL_SECONDS = 900;

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
        if (!header || header.alg !== 'ES256' || header.typ !== 'at+jwt' || typeof header.kid !== 'string') {
          done(new UnauthenticatedError());
          return;
        }
        keys.publicKey(header.kid).then(
          (key) => (key ? done(null, key as unknown as string) : done(new UnauthenticatedError())),
          (error: unknown) => done(error),
        );
      },
    });
  }

  async validate(claims: AccessTokenClaims): Promise<Principal> {
    // jsonwebtoken checks `exp` only when present: a token without one would never expire.
    if (
      typeof claims.sid !== 'string' ||
      typeof claims.sub !== 'string' ||
      !Array.isArray(claims.roles) ||
      typeof claims.exp !== 'number' ||
      typeof claims.iat !== 'number' ||
      claims.exp - claims.iat > MAX_ACCESS_TOKEN_TTL_SECONDS
    ) {
      throw new UnauthenticatedError();
    }
    if (await this.revocations.isRevoked(claims.sid)) throw new UnauthenticatedError();
    return {
      userId: claims.sub,
      sessionId: claims.sid,
      kind: claims.knd,
      deviceId: claims.did ?? null,
      roles: claims.roles,
      amr: claims.amr ?? [],
    };
  }
}

function decodeHeader(token: string): Record<string, unknown> | null {
  const [encoded] = token.split('.');
  if (!encoded) return null;
  try {
    const header: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    return header && typeof header === 'object' ? (header as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
