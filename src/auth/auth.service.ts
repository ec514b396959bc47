import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { RequesterContextBuilder } from '../requester/requester-context.builder.js';
import { AccountEvents } from './account-events.js';
import { ValidationError } from '../common/errors/app-error.js';
import type { User } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import { AccountDisabledError, InvalidCredentialsError, RefreshReusedError, UnauthenticatedError } from './auth.errors.js';
import type { Principal } from './auth.principal.js';
import type { Session } from './sessions/session.entity.js';
import { SessionsService, type ClientContext, type DeviceInfo } from './sessions/sessions.service.js';
import { AccessTokenService } from './tokens/access-token.service.js';

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
  ) {}

  /**
   * Password sign-in: with `device`, a mobile session (one per device); without,
   * a web session. Unknown login and wrong password answer alike, in the same
   * time; a disabled account is told so only with the right password.
   */
  async login(login: string, password: string, context: ClientContext, device?: DeviceInfo): Promise<SignedIn> {
    const user = await this.users.verifyCredentials(login, password);
    if (!user) {
      await this.audit.record({ type: 'auth.login_failed', ...context, detail: { method: 'password', reason: 'invalid_credentials' } });
      throw new InvalidCredentialsError();
    }
    if (user.status !== 'active') {
      await this.audit.record({ type: 'auth.login_failed', userId: user.id, ...context, detail: { method: 'password', reason: 'disabled' } });
      throw new AccountDisabledError();
    }
    return this.signIn(user, device ? 'mobile' : 'web', 'password', context, device);
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
    const { session, refreshToken, replaced = [] } = await this.sessions.start(user.id, kind, createdVia, context, device);
    for (const old of replaced) {
      await this.audit.record({ type: 'session.revoked', actorId: user.id, userId: user.id, sessionId: old, ...context, detail: { reason: 'replaced', by: session.id } });
    }
    await this.audit.record({
      type: 'auth.login_succeeded',
      actorId: user.id,
      userId: user.id,
      sessionId: session.id,
      ...context,
      detail: { method: createdVia, kind },
    });
    if (kind === 'web') {
      // The user's phones are told of every new browser session (not awaited: a courtesy, never a delay).
      const { context: seen } = this.requesters.capture({ ip: context.ip, userAgent: context.userAgent, createdAt: session.createdAt });
      void this.events.publish({ type: 'login.new', userId: user.id, login: { ...seen, sessionId: session.id, createdVia } });
    }
    return { user, session, refreshToken, accessToken: this.tokens.sign(session, user.roles), expiresIn: this.tokens.expiresIn };
  }

  /** The next access and refresh tokens for a refresh token (rotation with reuse detection). */
  async refresh(refreshToken: string, kind: 'mobile' | 'web', context: ClientContext): Promise<SignedIn> {
    const outcome = await this.sessions.rotate(refreshToken, kind, context);
    if (outcome === 'reused') throw new RefreshReusedError();
    if (outcome === 'invalid') throw new UnauthenticatedError('This refresh token is not valid; sign in again.');
    const user = await this.users.find(outcome.session.userId);
    if (!user || user.status !== 'active') {
      await this.sessions.revoke(outcome.session.id, 'user_disabled');
      throw new UnauthenticatedError();
    }
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
      await this.audit.record({ type: 'auth.logout', actorId: principal.userId, userId: principal.userId, sessionId: principal.sessionId, ...context });
    }
  }

  /** Proves the password again: sensitive actions then count as freshly authenticated. */
  async reauth(principal: Principal, password: string, context: ClientContext): Promise<Date> {
    if (!(await this.users.checkPassword(principal.userId, password))) throw new InvalidCredentialsError();
    const at = await this.sessions.markAuthenticated(principal.sessionId);
    await this.audit.record({ type: 'auth.reauthenticated', actorId: principal.userId, userId: principal.userId, sessionId: principal.sessionId, ...context });
    return at;
  }

  /** Unlinks one of my identities (never the last way in), audited. */
  async unlinkIdentity(principal: Principal, identityId: string, context: ClientContext): Promise<void> {
    await this.users.unlinkIdentity(principal.userId, identityId);
    await this.audit.record({ type: 'identity.unlinked', actorId: principal.userId, userId: principal.userId, sessionId: principal.sessionId, ...context, detail: { identity: identityId } });
  }

  /** Changes the password and signs out every other session. */
  async changePassword(principal: Principal, currentPassword: string, newPassword: string, context: ClientContext): Promise<void> {
    if (!(await this.users.checkPassword(principal.userId, currentPassword))) {
      throw new ValidationError([{ path: 'currentPassword', message: 'is not the current password' }], 'The current password is wrong.');
    }
    const user = await this.users.get(principal.userId);
    await this.users.setPassword(user, newPassword, 'newPassword');
    const revoked = await this.sessions.revokeAll(user.id, 'password_changed', principal.sessionId);
    await this.audit.record({
      type: 'auth.password_changed',
      actorId: user.id,
      userId: user.id,
      sessionId: principal.sessionId,
      ...context,
      detail: { revokedSessions: revoked.length },
    });
  }
}
