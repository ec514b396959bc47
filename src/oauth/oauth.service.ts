import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/index.js';
import { AuthError, AuthService, type SignedIn, type ClientContext } from '../auth/index.js';

import { AppError, safeReturnTo } from '../common/index.js';
import { OAuthError } from './oauth.errors.js';

import { APP_CONFIG, type AppConfig, type OAuthProviderId } from '../config/index.js';
import { type User, UsersService, type NewIdentity } from '../users/index.js';

import { OAuthProviderError, type OAuthProfile } from './oauth-provider.js';
import { OAuthRegistry } from './oauth.registry.js';
import { OAuthStateStore, type OAuthMode, type OAuthStart } from './oauth-state.store.js';

/** How a completed callback ended: a web session (login), an identity added (link), or a session re-proved (reauth). */
export type OAuthOutcome =
  | { start: OAuthStart; signedIn: SignedIn }
  | { start: OAuthStart; linked: true }
  | { start: OAuthStart; reauthenticated: true };

/** Who starts a link or a reauth: a signed-in user in one of their sessions. */
export interface OAuthCaller {
  userId: string;
  sessionId: string;
}

/**
 * Third-party login, the provider-independent part: starts (state bound to the
 * browser, validated `returnTo`), completes (state first, then the code, server
 * to server), and maps the person onto an account: the identity
 * `(provider, subject)` finds its user; a first login creates one; a link adds
 * the identity to the signed-in user. Never merged on a name, phone or e-mail.
 */
@Injectable()
export class OAuthService {
  private readonly logger = new Logger('OAuth');

  constructor(
    private readonly registry: OAuthRegistry,
    private readonly states: OAuthStateStore,
    private readonly users: UsersService,
    private readonly auth: AuthService,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly app: AppConfig,
  ) {}

  /** This browser's key for OAuth states: the one its cookie holds when well-formed, else a new one. */
  browserKey(fromCookie: string | undefined): string {
    return this.states.browserKey(fromCookie);
  }

  /**
   * The provider's authorization URL for a new login, a link to the caller or
   * a reauth of the caller's session, with its one-time state. Linking needs a
   * fresh credential (checked here and again at the callback); a reauth through
   * a provider is for accounts without a password (the others confirm it).
   */
  async start(
    providerId: string,
    mode: OAuthMode,
    caller: OAuthCaller | null,
    returnTo: unknown,
    browserKey: string,
  ): Promise<string> {
    const provider = this.registry.get(providerId);
    if (mode === 'link') await this.auth.assertFreshCredential(caller!.sessionId);
    if (mode === 'reauth' && (await this.auth.hasPassword(caller!.userId))) {
      throw new AuthError(
        'auth.forbidden',
        'This account has a password: confirm it with POST /api/v1/auth/reauth instead.',
      );
    }
    const state = await this.states.issue(
      {
        provider: provider.id,
        mode,
        userId: caller?.userId ?? null,
        sessionId: caller?.sessionId ?? null,
        returnTo: safeReturnTo(returnTo, this.app) ?? '/',
      },
      browserKey,
    );
    return provider.authorizationUrl({ state, redirectUri: this.redirectUri(provider.id) });
  }

  /**
   * The callback: the state is taken (and so burnt) before any code reaches
   * the provider; then the code is exchanged and the person mapped.
   */
  async complete(
    providerId: string,
    query: Record<string, unknown>,
    browserKey: string | undefined,
    context: ClientContext,
  ): Promise<OAuthOutcome> {
    const provider = this.registry.get(providerId);
    const { code, state } = provider.readCallback(query);
    const start = await this.states.take(state, browserKey, provider.id);
    const method = `oauth:${provider.id}`;
    try {
      if (!code)
        throw new OAuthError('oauth.code_invalid', 'The sign-in was not approved on the provider’s side; start again.');
      const profile = await this.profile(provider.id, () => provider.profile(code, this.redirectUri(provider.id)));
      const identity: NewIdentity = {
        provider: provider.id,
        subject: profile.subject,
        subjectKind: profile.subjectKind,
        profile: profile.profile,
      };
      if (start.mode !== 'login') {
        if (!start.userId || !start.sessionId)
          throw new OAuthError('oauth.state_invalid', 'This link is not valid any more; start again.');
        if (start.mode === 'link') {
          // Still fresh now, in a session still valid: the approval at the provider may have taken minutes.
          await this.auth.assertFreshCredential(start.sessionId);
          const { identity: linked, created } = await this.users.linkIdentity(start.userId, identity);
          if (created) await this.auth.identityLinked(start.userId, start.sessionId, linked, context);
          return { start, linked: true };
        }
        const owner = await this.users.findByIdentity(identity.provider, identity.subject);
        if (owner?.id !== start.userId)
          throw new AuthError('auth.forbidden', 'That account is not one linked to you; confirm with one that is.');
        await this.auth.reauthByIdentity(start.userId, start.sessionId, method, context);
        return { start, reauthenticated: true };
      }
      const user = await this.userFor(identity, profile);
      if (user.status !== 'active') throw new AuthError('auth.account_disabled');
      return { start, signedIn: await this.auth.signIn(user, 'web', method, context) };
    } catch (error) {
      const reason = error instanceof AppError ? error.code : 'internal';
      await this.audit
        .record({
          type: 'auth.login_failed',
          userId: start.userId,
          ...context,
          detail: { method, mode: start.mode, reason },
        })
        .catch(() => undefined);
      throw error;
    }
  }

  /** The provider's profile; its failures as the protocol's codes (the provider's own code logged). */
  private async profile(provider: OAuthProviderId, fetch: () => Promise<OAuthProfile>): Promise<OAuthProfile> {
    try {
      return await fetch();
    } catch (error) {
      if (!(error instanceof OAuthProviderError)) throw error;
      this.logger.warn(
        { provider, failure: error.failure, providerCode: error.providerCode },
        `Provider ${provider} refused or failed: ${error.message}`,
      );
      if (error.failure === 'code_invalid')
        throw new OAuthError(
          'oauth.code_invalid',
          'The provider refused this sign-in (the code is invalid, used or expired); start again.',
        );
      if (error.failure === 'not_allowed')
        throw new AuthError('auth.forbidden', 'This account is not allowed to sign in here.');
      throw new OAuthError('oauth.upstream', 'The sign-in provider failed or did not answer; try again later.');
    }
  }

  /** The identity's user; a new one at the first login (a parallel first login finds the other's). */
  private async userFor(identity: NewIdentity, profile: OAuthProfile): Promise<User> {
    const existing = await this.users.findByIdentity(identity.provider, identity.subject);
    if (existing) {
      await this.users.linkIdentity(existing.id, identity); // refreshes the stored profile
      return existing;
    }
    const created = await this.users.createForIdentity(identity, {
      displayName: profile.displayName,
      avatarUrl: profile.avatarUrl,
    });
    if (created) return created;
    const raced = await this.users.findByIdentity(identity.provider, identity.subject);
    if (!raced) throw new Error('A new identity vanished during sign-up');
    return raced;
  }

  private redirectUri(provider: OAuthProviderId): string {
    return `${this.app.publicUrl}/api/v1/oauth/${provider}/callback`;
  }
}
