import { applyDecorators, Injectable, UseGuards, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { type Principal, AuthError, SessionsService } from '../../auth/index.js';

/**
 * Destructive admin actions (delete, disable, roles, passwords, revoking all
 * sessions) need a credential proved no longer than `REAUTH_MAX_AGE_SECONDS`
 * ago (a password sign-in or `POST /api/v1/auth/reauth`; a session made by QR
 * or a provider alone has none): else `401 auth.reauth_required`.
 */
@Injectable()
export class RecentSignInGuard implements CanActivate {
  constructor(private readonly sessions: SessionsService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const principal = context.switchToHttp().getRequest<{ user: Principal }>().user;
    if (!(await this.isRecent(principal))) throw new AuthError('auth.reauth_required');
    return true;
  }

  /** Whether the caller's session proved a credential recently enough (for routes where only some bodies are destructive). */
  isRecent(principal: Principal): Promise<boolean> {
    return this.sessions.hasFreshCredential(principal.sessionId);
  }
}

/** The route needs a recent sign-in (see `RecentSignInGuard`). */
export const RecentSignIn = () =>
  applyDecorators(
    UseGuards(RecentSignInGuard),
    ApiResponse({
      status: 401,
      description: '`auth.reauth_required`: confirm the password with POST /api/v1/auth/reauth, then retry',
    }),
  );
