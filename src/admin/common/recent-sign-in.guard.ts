import { applyDecorators, Inject, Injectable, UseGuards, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import type { Principal } from '../../auth/auth.principal.js';
import { ReauthRequiredError } from '../../auth/auth.errors.js';
import { SessionsService } from '../../auth/sessions/sessions.service.js';
import { Clock } from '../../common/clock/clock.js';
import { AUTH_CONFIG, type AuthConfig } from '../../config/config.types.js';

/**
 * Destructive admin actions (delete, disable, roles, passwords, revoking all
 * sessions) need a sign-in no older than `REAUTH_MAX_AGE_SECONDS`: else
 * `401 auth.reauth_required`, renewed by `POST /api/v1/auth/reauth`.
 */
@Injectable()
export class RecentSignInGuard implements CanActivate {
  constructor(
    private readonly sessions: SessionsService,
    private readonly clock: Clock,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const principal = context.switchToHttp().getRequest<{ user: Principal }>().user;
    if (!(await this.isRecent(principal))) throw new ReauthRequiredError();
    return true;
  }

  /** Whether the caller's session proved a credential recently enough (for routes where only some bodies are destructive). */
  async isRecent(principal: Principal): Promise<boolean> {
    const session = await this.sessions.find(principal.sessionId);
    return session !== null && this.clock.now() - session.authenticatedAt.getTime() <= this.config.reauthMaxAgeSeconds * 1_000;
  }
}

/** The route needs a recent sign-in (see `RecentSignInGuard`). */
export const RecentSignIn = () =>
  applyDecorators(UseGuards(RecentSignInGuard), ApiResponse({ status: 401, description: '`auth.reauth_required`: confirm the password with POST /api/v1/auth/reauth, then retry' }));
