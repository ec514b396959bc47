import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Principal } from '../../auth/index.js';
import { requestIdOf } from '../../logging/index.js';

/** Who does an admin action, from where, in which request: what every admin audit event records. */
export interface Acting {
  actor: Principal;
  ip: string | null;
  userAgent: string | null;
  requestId: string;
}

export const ActingAs = createParamDecorator((_data: unknown, ctx: ExecutionContext): Acting => {
  const req = ctx.switchToHttp().getRequest<Request & { user: Principal }>();
  return { actor: req.user, ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null, requestId: requestIdOf(req) };
});
