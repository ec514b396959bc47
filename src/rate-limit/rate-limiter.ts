import { Inject, Injectable, mixin, type CanActivate, type ExecutionContext, type Type } from '@nestjs/common';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { STORE, type Store } from '../store/index.js';
import { RateLimitedError } from './rate-limit.errors.js';

/** At most `limit` requests per `windowMs` for each value of `key(request)` (an IP, a hashed login, …). */
export interface RateLimitRule {
  name: string;
  windowMs: number;
  limit: number;
  key: (req: Request) => string;
}

/**
 * Fixed-window rate limits counted in the shared store (Redis), so they hold
 * across every instance. Over a limit: 429 `rate_limited` with `Retry-After`.
 * `RATE_LIMITS=off` disables every limit.
 *
 * (@nestjs/throttler was the first choice; its current release, 6.7.1, is
 * CommonJS requiring the ESM-only @nestjs/common 12: Node 20.19 loads it, but
 * Jest on Node 20 cannot, so nothing built on it could be tested.)
 */
@Injectable()
export class RateLimiter {
  constructor(
    @Inject(STORE) private readonly store: Store,
    @Inject(APP_CONFIG) private readonly app: AppConfig,
  ) {}

  async check(rules: RateLimitRule[], req: Request): Promise<void> {
    await this.consume(rules.map((rule) => ({ ...rule, key: rule.key(req) })));
  }

  /** The same for callers that are not HTTP requests (a socket handshake): each rule with its key. */
  async consume(rules: Array<Omit<RateLimitRule, 'key'> & { key: string }>): Promise<void> {
    if (!this.app.rateLimits) return;
    // Every rule counts, whether or not another one already refuses.
    const counts = await Promise.all(
      rules.map((rule) => this.store.increment(`ratelimit:${rule.name}:${rule.key}`, rule.windowMs)),
    );
    let retryAfterMs = 0;
    rules.forEach((rule, i) => {
      const { count, ttlMs } = counts[i]!;
      if (count > rule.limit) retryAfterMs = Math.max(retryAfterMs, ttlMs);
    });
    if (retryAfterMs > 0) throw new RateLimitedError('attempts', retryAfterMs);
  }
}

/**
 * A guard applying the rules provided under `token` (a provider of the module
 * that owns the route, usually built from its configuration):
 * `@UseGuards(RateLimitGuard(LOGIN_RATE_LIMITS))`.
 */
export function RateLimitGuard(token: symbol): Type<CanActivate> {
  @Injectable()
  class RateLimitGuardMixin implements CanActivate {
    constructor(
      @Inject(token) private readonly rules: RateLimitRule[],
      private readonly limiter: RateLimiter,
    ) {}

    async canActivate(context: ExecutionContext): Promise<boolean> {
      await this.limiter.check(this.rules, context.switchToHttp().getRequest<Request>());
      return true;
    }
  }
  return mixin(RateLimitGuardMixin);
}
