import { applyDecorators, Controller, UseGuards, type Provider } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Roles, type Principal } from '../../auth/index.js';

import type { Role } from '../../users/index.js';
import { RateLimitGuard, type RateLimitRule } from '../../rate-limit/index.js';

export const ADMIN_LIMITS = Symbol('ADMIN_LIMITS');

/** Requests per second each admin (or auditor) may make: PROTOCOL.md asks for no less than 50. */
const ADMIN_REQUESTS_PER_SECOND = 100;

export const adminRateLimitProvider: Provider = {
  provide: ADMIN_LIMITS,
  useValue: [
    {
      name: 'admin',
      windowMs: 1_000,
      limit: ADMIN_REQUESTS_PER_SECOND,
      key: (req: Request) => (req.user as Principal | undefined)?.userId ?? req.ip ?? 'unknown',
    },
  ] satisfies RateLimitRule[],
};

/**
 * An admin API controller under `/api/v1/admin/<path>`: role `admin` unless
 * `roles` says otherwise (GETs add `@Roles('admin', 'auditor')`), rate-limited
 * per admin, in the OpenAPI document's `admin` group.
 */
export const AdminController = (path: string, roles: Role[] = ['admin']) =>
  applyDecorators(
    Controller(`api/v1/admin${path ? `/${path}` : ''}`),
    Roles(...roles),
    UseGuards(RateLimitGuard(ADMIN_LIMITS)),
    ApiTags('admin'),
    ApiBearerAuth(),
  );
