import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { clientContextOf, type ClientContext, type Principal } from '../../auth/index.js';
import { requestIdOf } from '../../logging/index.js';

/** Who does an admin action, from where (the one request context), in which request: what every admin audit event records. */
export interface Acting extends ClientContext {
  actor: Principal;
  requestId: string;
}

export const ActingAs = createParamDecorator((_data: unknown, ctx: ExecutionContext): Acting => {
  const req = ctx.switchToHttp().getRequest<Request & { user: Principal }>();
  return { actor: req.user, ...clientContextOf(req), requestId: requestIdOf(req) };
});
