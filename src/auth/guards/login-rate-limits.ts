import type { Provider } from '@nestjs/common';
import type { Request } from 'express';
import { createHash } from 'node:crypto';
import { AUTH_CONFIG, type AuthConfig } from '../../config/config.types.js';
import type { RateLimitRule } from '../../rate-limit/rate-limiter.js';
import { normalizeLogin } from '../../users/login.js';
import type { Principal } from '../auth.principal.js';

/** Rules for routes that check a password: per client IP, and per account. */
export const LOGIN_RATE_LIMITS = Symbol('LOGIN_RATE_LIMITS');

/** The account a password attempt is for: the login in the body, else the caller (reauth). Hashed. */
function account(req: Request): string {
  const body = req.body as { login?: unknown } | undefined;
  const who = typeof body?.login === 'string' ? normalizeLogin(body.login) : `user:${(req.user as Principal | undefined)?.userId ?? 'none'}`;
  return createHash('sha256').update(who).digest('base64url').slice(0, 22);
}

export const loginRateLimitsProvider: Provider = {
  provide: LOGIN_RATE_LIMITS,
  inject: [AUTH_CONFIG],
  useFactory: (config: AuthConfig): RateLimitRule[] => [
    { name: 'login-ip', windowMs: 60_000, limit: config.loginLimitPerIpPerMinute, key: (req) => req.ip ?? 'unknown' },
    { name: 'login-account', windowMs: 15 * 60_000, limit: config.loginLimitPerAccountPer15Minutes, key: account },
  ],
};
