import { Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { AppError } from '../../common/index.js';
import type { Role } from '../../users/index.js';
import { IS_PUBLIC, ROLES } from '../auth.decorators.js';
import { AuthError } from '../auth.errors.js';
import type { Principal } from '../auth.principal.js';

/**
 * The global guard: every route needs a valid access token unless it is
 * `@Public()`; `@Roles(...)` then requires one of the roles. HTTP only: a
 * socket proves itself once, at its handshake (see the realtime gateways), so
 * its messages come from an authenticated socket already.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    await super.canActivate(context);
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, targets);
    if (roles?.length) {
      const principal = context.switchToHttp().getRequest<{ user: Principal }>().user;
      if (!principal.roles.some((r) => roles.includes(r))) throw new AuthError('auth.forbidden');
    }
    return true;
  }

  override handleRequest<T>(error: unknown, user: T): T {
    // Domain errors (store.unavailable, …) keep their code; anything else is a refused credential.
    if (error instanceof AppError) throw error;
    if (error || !user) throw new AuthError('auth.unauthenticated');
    return user;
  }
}
