import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Role } from '../users/index.js';
import type { Principal } from './auth.principal.js';
import { clientContextOf, type ClientContext } from './client-context.js';

export const IS_PUBLIC = 'auth:public';
export const ROLES = 'auth:roles';

/** The route needs no access token (every other route does). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** The caller needs one of these roles. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES, roles);

/** The verified principal of the request (on authenticated routes). */
export const CurrentUser = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest<Request & { user: Principal }>().user;
});

/** The client's IP (per TRUST_PROXY) and user agent, for sessions and audit events. */
export const Client = createParamDecorator((_data: unknown, ctx: ExecutionContext): ClientContext => {
  return clientContextOf(ctx.switchToHttp().getRequest<Request>());
});
