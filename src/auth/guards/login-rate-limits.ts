import { Inject, Injectable, type Provider } from '@nestjs/common';
import type { Request } from 'express';
import { createHash } from 'node:crypto';
import { AUTH_CONFIG, type AuthConfig } from '../../config/index.js';
import { RateLimiter, type RateLimitRule } from '../../rate-limit/index.js';
import { normalizeLogin } from '../../users/index.js';
import type { Principal } from '../auth.principal.js';

/**
 * Password guessing, limited without handing anyone a way to lock others out
 * (security review, finding 5):
 * - every attempt, per client IP (`LOGIN_LIMIT_PER_IP` per minute);
 * - sign-in attempts on one account from one IP (`LOGIN_LIMIT_PER_ACCOUNT_IP`
 *   per 15 minutes) and from everywhere (`LOGIN_LIMIT_PER_ACCOUNT` per minute:
 *   a ceiling that slows a distributed guesser and lets the owner in again
 *   within a minute); a known device (a phone proving the key of its active
 *   session) is exempt from both, so strangers' guesses never keep it out
 *   (`LoginThrottle`, called by `AuthService.login`);
 * - a signed-in caller's password checks (reauth, password change), per
 *   session (`LOGIN_LIMIT_PER_ACCOUNT_IP` per 15 minutes): a stolen session
 *   cannot guess its way to a fresh credential, and its guesses never count
 *   against the owner's other sessions.
 */
export const LOGIN_RATE_LIMITS = Symbol('LOGIN_RATE_LIMITS');
/** The rules of routes where a signed-in caller proves the password again. */
export const PASSWORD_CHECK_RATE_LIMITS = Symbol('PASSWORD_CHECK_RATE_LIMITS');

const hash = (value: string) => createHash('sha256').update(value).digest('base64url').slice(0, 22);

const perIp = (config: AuthConfig): RateLimitRule => ({
  name: 'login-ip',
  windowMs: 60_000,
  limit: config.loginLimitPerIpPerMinute,
  key: (req: Request) => req.ip ?? 'unknown',
});

export const loginRateLimitProviders: Provider[] = [
  {
    provide: LOGIN_RATE_LIMITS,
    inject: [AUTH_CONFIG],
    useFactory: (config: AuthConfig): RateLimitRule[] => [perIp(config)],
  },
  {
    provide: PASSWORD_CHECK_RATE_LIMITS,
    inject: [AUTH_CONFIG],
    useFactory: (config: AuthConfig): RateLimitRule[] => [
      perIp(config),
      {
        name: 'login-session',
        windowMs: 15 * 60_000,
        limit: config.loginLimitPerAccountIpPer15Minutes,
        key: (req: Request) => (req.user as Principal | undefined)?.sessionId ?? 'none',
      },
    ],
  },
];

/** The per-account limits of password sign-ins (see `LOGIN_RATE_LIMITS`). */
@Injectable()
export class LoginThrottle {
  constructor(
    private readonly limiter: RateLimiter,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  /** Counts an attempt on `login` from `ip`; `rate_limited` with `Retry-After` over either limit. */
  async attempt(login: string, ip: string | null): Promise<void> {
    const account = hash(normalizeLogin(login));
    await this.limiter.consume([
      {
        name: 'login-account-ip',
        windowMs: 15 * 60_000,
        limit: this.config.loginLimitPerAccountIpPer15Minutes,
        key: `${account}:${ip ?? 'unknown'}`,
      },
      { name: 'login-account', windowMs: 60_000, limit: this.config.loginLimitPerAccountPerMinute, key: account },
    ]);
  }
}
