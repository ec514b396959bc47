import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/index.js';
import { RequesterContextBuilder } from '../requester/index.js';
import { AccountEvents } from './account-events.js';
import { ValidationError } from '../common/index.js';
import { type User, UsersService, type Identity, normalizeLogin } from '../users/index.js';

import { AuthError } from './auth.errors.js';

import type { Principal } from './auth.principal.js';
import type { Session } from './sessions/session.entity.js';
import type { ClientContext } from './client-context.js';
import { SessionsService, type DeviceInfo } from './sessions/sessions.service.js';
import { AccessTokenService } from './tokens/access-token.service.js';
import { LoginThrottle } from './guards/login-rate-limits.js';

export interface SignedIn {
  user: User;
  session: Session;
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
}

/** Sign-in, refresh, sign-out and password changes: the account side of PROTOCOL.md. */
@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly tokens: AccessTokenService,
    private readonly audit: AuditService,
    private readonly events: AccountEvents,
    private readonly requesters: RequesterContextBuilder,
    private readonly throttle: LoginThrottle,
  ) {}

  /**
   * Password sign-in: with `device`, a mobile session (one per device); without,
   * a web session. Unknown login and wrong password answer alike, in the same
   * time; a disabled account is told so only with the right password. Counted
   * against the account's ceiling unless a known device proves itself with
   * `deviceSignature` (of `scangate:login:<device id>:<login>`): strangers'
   * guesses never keep a user's own phone out.
   */
  async login(
    login: string,
    password: string,
    context: ClientContext,
    device?: DeviceInfo,
    deviceSignature?: string,
  ): Promise<SignedIn> {
    if (!(device && deviceSignature && (await this.isKnownDevice(login, device.id, deviceSignature))))
      await this.throttle.attempt(login, context.ip);
    const user = await this.users.verifyCredentials(login, password);
    if (!user) {
      await this.audit.record({
        type: 'auth.login_failed',
        ...context,
        detail: { method: 'password', reason: 'invalid_credentials' },
      });
      throw new AuthError('auth.invalid_credentials');
    }
    if (user.status !== 'active') {
      await this.audit.record({
        type: 'auth.login_failed',
        userId: user.id,
        ...context,
        detail: { method: 'password', reason: 'disabled' },
      });
      throw new AuthError('auth.account_disabled');
    }
    return this.signIn(user, device ? 'mobile' : 'web', 'password', context, device);
  }

  private async isKnownDevice(login: string, deviceId: string, signature: string): Promise<boolean> {
    const userId = await this.users.idOfLogin(login);
    return (
      userId !== null &&
      this.sessions.isKnownDevice(userId, deviceId, `scangate:login:${deviceId}:${normalizeLogin(login)}`, signature)
    );
  }

  /**
   * Starts a session for a user already authenticated by some method (password
   * here; QR and OAuth in their modules) and issues its tokens.
   */
  async signIn(
    user: User,
    kind: 'mobile' | 'web',
    createdVia: string,
    context: ClientContext,
    device?: DeviceInfo,
  ): Promise<SignedIn> {
    const {
      session,
      refreshToken,
      replaced = [],
    } = await this.sessions.start(user.id, kind, createdVia, context, device);
    for (const old of replaced) {
      await this.audit.recordDone({
        type: 'session.revoked',
        actorId: user.id,
        userId: user.id,
        sessionId: old,
        ...context,
        detail: { reason: 'replaced', by: session.id },
      });
    }
    await this.audit.recordDone({
      type: 'auth.login_succeeded',
      actorId: user.id,
      userId: user.id,
      sessionId: session.id,
      ...context,
      detail: { method: createdVia, kind },
    });
    if (kind === 'web') {
      // The user's phones are told of every new browser session (not awaited: a courtesy, never a delay).
      const { context: seen } = this.requesters.capture({
        ip: context.ip,
        userAgent: context.userAgent,
        createdAt: session.createdAt,
      });
      void this.events.publish({
        type: 'login.new',
        userId: user.id,
        login: { ...seen, sessionId: session.id, createdVia },
      });
    }
    return {
      user,
      session,
      refreshToken,
      accessToken: this.tokens.sign(session, user.roles),
      expiresIn: this.tokens.expiresIn,
    };
  }

  /** The next access and refresh tokens for a refresh token (rotation with reuse detection). */
  async refresh(refreshToken: string, kind: 'mobile' | 'web', context: ClientContext): Promise<SignedIn> {
    const outcome = await this.sessions.rotate(refreshToken, kind, context);
    if (outcome === 'reused') throw new AuthError('auth.refresh_reused');
    if (outcome === 'invalid')
      throw new AuthError('auth.unauthenticated', 'This refresh token is not valid; sign in again.');
    const { user } = outcome;
    return {
      user,
      session: outcome.session,
      refreshToken: outcome.refreshToken,
      accessToken: this.tokens.sign(outcome.session, user.roles),
      expiresIn: this.tokens.expiresIn,
    };
  }

  async logout(principal: Principal, context: ClientContext): Promise<void> {
    if (await this.sessions.revoke(principal.sessionId, 'logout', principal.userId)) {
      await this.audit.recordDone({
        type: 'auth.logout',
        actorId: principal.userId,
        userId: principal.userId,
        sessionId: principal.sessionId,
        ...context,
      });
    }
  }

  /** Proves the password again: sensitive actions then count as freshly authenticated. */
  async reauth(principal: Principal, password: string, context: ClientContext): Promise<Date> {
    if (!(await this.users.checkPassword(principal.userId, password))) throw new AuthError('auth.invalid_credentials');
    const at = await this.sessions.markAuthenticated(principal.sessionId);
    await this.audit.recordDone({
      type: 'auth.reauthenticated',
      actorId: principal.userId,
      userId: principal.userId,
      sessionId: principal.sessionId,
      ...context,
    });
    return at;
  }

  /**
   * Adding a way to sign in needs a fresh credential (security review, finding
   * 1): a password proved within `REAUTH_MAX_AGE_SECONDS` in this session (or,
   * without a password, re-proof through an identity already linked). A
   * session made by QR or a provider alone is never fresh: a hijacked session
   * cannot plant a way back in.
   */
  async assertFreshCredential(sessionId: string): Promise<void> {
    if (!(await this.sessions.hasFreshCredential(sessionId))) throw new AuthError('auth.reauth_required');
  }

  /** Whether the user has a password (else it re-proves itself through a linked provider). */
  hasPassword(userId: string): Promise<boolean> {
    return this.users.hasPassword(userId);
  }

  /**
   * A session re-proved itself through a provider identity already linked to
   * its user (an account without a password): fresh for the next minutes.
   */
  async reauthByIdentity(userId: string, sessionId: string, method: string, context: ClientContext): Promise<Date> {
    if (await this.sessions.isRevoked(sessionId)) throw new AuthError('auth.unauthenticated');
    const at = await this.sessions.markAuthenticated(sessionId);
    await this.audit.recordDone({
      type: 'auth.reauthenticated',
      actorId: userId,
      userId,
      sessionId,
      ...context,
      detail: { method },
    });
    return at;
  }

  /** A new identity was linked to the user: audited, and every phone of the user is told ("not me? unlink it"). */
  async identityLinked(
    userId: string,
    sessionId: string | null,
    identity: Identity,
    context: ClientContext,
  ): Promise<void> {
    await this.audit.recordDone({
      type: 'identity.linked',
      actorId: userId,
      userId,
      sessionId,
      ...context,
      detail: { provider: identity.provider, subjectKind: identity.subjectKind, identity: identity.id },
    });
    const { context: seen } = this.requesters.capture({
      ip: context.ip,
      userAgent: context.userAgent,
      createdAt: identity.linkedAt,
    });
    void this.events.publish({
      type: 'identity.linked',
      userId,
      link: {
        ...seen,
        identityId: identity.id,
        provider: identity.provider,
        linkedAt: identity.linkedAt.toISOString(),
      },
    });
  }

  /** Unlinks one of my identities (never the last way in), audited. */
  async unlinkIdentity(principal: Principal, identityId: string, context: ClientContext): Promise<void> {
    await this.users.unlinkIdentity(principal.userId, identityId);
    await this.audit.recordDone({
      type: 'identity.unlinked',
      actorId: principal.userId,
      userId: principal.userId,
      sessionId: principal.sessionId,
      ...context,
      detail: { identity: identityId },
    });
  }

  /**
   * Changes the password and signs out every other session. Answers the
   * identities linked since the previous password, for the client to offer
   * removing them (someone who had the account may have added a way back in).
   */
  async changePassword(
    principal: Principal,
    currentPassword: string,
    newPassword: string,
    context: ClientContext,
  ): Promise<{ revokedSessions: number; identitiesLinkedSinceLastPassword: Identity[] }> {
    if (!(await this.users.checkPassword(principal.userId, currentPassword))) {
      throw new ValidationError(
        [{ path: 'currentPassword', message: 'is not the current password' }],
        'The current password is wrong.',
      );
    }
    const user = await this.users.get(principal.userId);
    const linkedSince = await this.users.identitiesLinkedSincePassword(user);
    await this.users.setPassword(user, newPassword, 'newPassword');
    // Proving the current password makes this session fresh as a reauth would.
    await this.sessions.markAuthenticated(principal.sessionId);
    const revoked = await this.sessions.revokeAll(user.id, 'password_changed', principal.sessionId);
    await this.audit.recordDone({
      type: 'auth.password_changed',
      actorId: user.id,
      userId: user.id,
      sessionId: principal.sessionId,
      ...context,
      detail: { revokedSessions: revoked.length },
    });
    return { revokedSessions: revoked.length, identitiesLinkedSinceLastPassword: linkedSince };
  }
}
