import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AUTH_CONFIG, type AuthConfig } from '../../config/index.js';
import type { Role } from '../../users/index.js';
import { AuthError } from '../auth.errors.js';
import type { AccessTokenClaims, Principal } from '../auth.principal.js';
import { SigningKeysService } from '../keys/signing-keys.service.js';
import { RevocationStore } from '../sessions/revocation.store.js';
import type { Session } from '../sessions/session.entity.js';
import { decodeHeader, isAccessTokenHeader, principalOf } from './access-token.claims.js';

/**
 * Signs access tokens (ES256 JWTs with `kid`, ≤ 15 minutes), and is the one
 * verifier of them: HTTP (JwtStrategy delegates here) and the sockets alike.
 */
@Injectable()
export class AccessTokenService {
  constructor(
    private readonly jwt: JwtService,
    private readonly keys: SigningKeysService,
    private readonly revocations: RevocationStore,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  /**
   * The principal of a valid access token and when it expires (epoch ms).
   * Throws `auth.unauthenticated` for anything else: bad signature, unknown
   * key, wrong issuer or audience, expired, malformed claims, revoked session.
   */
  async verify(token: unknown): Promise<{ principal: Principal; expiresAtMs: number }> {
    if (typeof token !== 'string' || token.length > 4096) throw new AuthError('auth.unauthenticated');
    const header = decodeHeader(token);
    if (!isAccessTokenHeader(header)) throw new AuthError('auth.unauthenticated');
    const key = await this.keys.publicKey(header.kid);
    if (!key) throw new AuthError('auth.unauthenticated');
    let claims: AccessTokenClaims;
    try {
      claims = await this.jwt.verifyAsync<AccessTokenClaims>(token, {
        publicKey: key as never,
        algorithms: ['ES256'],
        issuer: this.config.issuer,
        audience: this.config.audience,
      });
    } catch {
      throw new AuthError('auth.unauthenticated');
    }
    const principal = principalOf(claims);
    if (!principal) throw new AuthError('auth.unauthenticated');
    await this.assertNotRevoked(principal.sessionId);
    return { principal, expiresAtMs: claims.exp * 1000 };
  }

  /** `auth.unauthenticated` once the session is revoked (a token verified earlier is worth nothing then). */
  async assertNotRevoked(sessionId: string): Promise<void> {
    if (await this.revocations.isRevoked(sessionId)) throw new AuthError('auth.unauthenticated');
  }

  get expiresIn(): number {
    return this.config.accessTokenTtlSeconds;
  }

  sign(session: Pick<Session, 'id' | 'userId' | 'kind' | 'deviceId' | 'createdVia'>, roles: Role[]): string {
    const { kid, key } = this.keys.signingKey();
    return this.jwt.sign(
      {
        sid: session.id,
        ...(session.deviceId ? { did: session.deviceId } : {}),
        amr: amrOf(session),
        roles,
        knd: session.kind,
      },
      {
        privateKey: key,
        algorithm: 'ES256',
        keyid: kid,
        subject: session.userId,
        issuer: this.config.issuer,
        audience: this.config.audience,
        expiresIn: this.config.accessTokenTtlSeconds,
        header: { alg: 'ES256', typ: 'at+jwt', kid },
      },
    );
  }
}

/** RFC 8176 authentication method references, from how the session began. */
function amrOf(session: Pick<Session, 'kind' | 'createdVia'>): string[] {
  const method = session.createdVia === 'password' ? 'pwd' : session.createdVia === 'qr' ? 'qr' : 'oauth';
  return session.kind === 'mobile' ? [method, 'mob'] : [method];
}
