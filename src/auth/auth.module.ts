import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/index.js';
import { RequesterModule } from '../requester/index.js';
import { AccountEvents } from './account-events.js';
import { UsersModule } from '../users/index.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { JwtAuthGuard } from './guards/jwt-auth.guard.js';
import { LoginThrottle, loginRateLimitProviders } from './guards/login-rate-limits.js';
import { SigningKey } from './keys/signing-key.entity.js';
import { SigningKeysRepository } from './keys/signing-keys.repository.js';
import { SigningKeysService } from './keys/signing-keys.service.js';
import { signingKeysSecretProvider } from './keys/signing-keys.secret.js';
import { LocalSecrets } from '../common/index.js';
import { WellKnownController } from './keys/well-known.controller.js';
import { MeController } from './me.controller.js';
import { RefreshCookie } from './refresh-cookie.js';
import { WebSignIn } from './web-sign-in.js';
import { RefreshToken } from './sessions/refresh-token.entity.js';
import { RevocationStore } from './sessions/revocation.store.js';
import { Session } from './sessions/session.entity.js';
import { SessionsRepository } from './sessions/sessions.repository.js';
import { SessionDirectory } from './sessions/session.directory.js';
import { SessionsService } from './sessions/sessions.service.js';
import { AccessTokenService } from './tokens/access-token.service.js';
import { JwtStrategy } from './tokens/jwt.strategy.js';

/**
 * Sessions, tokens and the global guard: every route needs an access token
 * unless it is `@Public()`. Signing keys, JWKS, refresh rotation, revocation.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([Session, RefreshToken, SigningKey]),
    UsersModule,
    AuditModule,
    RequesterModule,
    PassportModule,
    JwtModule.register({}),
  ],
  controllers: [AuthController, MeController, WellKnownController],
  providers: [
    AuthService,
    AccountEvents,
    SessionsService,
    SessionsRepository,
    SessionDirectory,
    RevocationStore,
    SigningKeysRepository,
    SigningKeysService,
    signingKeysSecretProvider,
    LocalSecrets,
    AccessTokenService,
    RefreshCookie,
    WebSignIn,
    JwtStrategy,
    ...loginRateLimitProviders,
    LoginThrottle,
    { provide: APP_GUARD, useClass: JwtAuthGuard },
  ],
  exports: [
    AuthService,
    SessionsService,
    SessionDirectory,
    SigningKeysService,
    AccessTokenService,
    AccountEvents,
    RefreshCookie,
    WebSignIn,
  ],
})
export class AuthModule {}
