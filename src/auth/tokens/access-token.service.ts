import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AUTH_CONFIG, type AuthConfig } from '../../config/config.types.js';
import type { Role } from '../../users/user.entity.js';
import { SigningKeysService } from '../keys/signing-keys.service.js';
import type { Session } from '../sessions/session.entity.js';

/** Signs access tokens: ES256 JWTs with `kid`, ≤ 15 minutes. */
@Injectable()
export class AccessTokenService {
  constructor(
    private readonly jwt: JwtService,
    private readonly keys: SigningKeysService,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

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
