import { Inject, Injectable, Module, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail, type ThrottlerStorage } from '@nestjs/throttler';
import { createHash } from 'node:crypto';
import { AppError } from '../../common/errors/app-error.js';
import { STORE, type Store } from '../../store/store.js';
import { normalizeLogin } from '../../users/login.js';

/** Names of the sign-in throttlers (see AuthModule). */
export const LOGIN_PER_IP = 'login-ip';
export const LOGIN_PER_ACCOUNT = 'login-account';

/** Per-IP tracker: the client address as Express sees it (TRUST_PROXY). */
export function ipTracker(req: Record<string, any>): string {
  return String(req.ip ?? 'unknown');
}

/** Per-account tracker: a hash of the normalised login in the body (or the caller for reauth). */
export function accountTracker(req: Record<string, any>): string {
  const login = typeof req.body?.login === 'string' ? normalizeLogin(req.body.login) : `user:${req.user?.userId ?? 'anonymous'}`;
  return createHash('sha256').update(login).digest('base64url').slice(0, 22);
}

/** What a ThrottlerStorage answers (the package does not export the type from its root). */
type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** Throttler counters in the shared store, so the limits hold across every instance. */
@Injectable()
export class StoreThrottlerStorage implements ThrottlerStorage {
  constructor(@Inject(STORE) private readonly store: Store) {}

  async increment(key: string, ttl: number, limit: number, _blockDuration: number, name: string): Promise<ThrottlerStorageRecord> {
    const { count, ttlMs } = await this.store.increment(`throttle:${name}:${key}`, ttl);
    const seconds = Math.max(1, Math.ceil(ttlMs / 1000));
    return { totalHits: count, timeToExpire: seconds, isBlocked: count > limit, timeToBlockExpire: count > limit ? seconds : 0 };
  }
}

@Module({ providers: [StoreThrottlerStorage], exports: [StoreThrottlerStorage] })
export class ThrottlerStorageModule {}

/** The throttler guard of sign-in routes: over the limit is 429 `rate_limited` with `Retry-After`. */
@Injectable()
export class LoginThrottlerGuard extends ThrottlerGuard {
  protected override async throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    throw new AppError('rate_limited', 'Too many sign-in attempts; wait a little and try again.', undefined, {
      'Retry-After': String(Math.max(1, detail.timeToBlockExpire)),
    });
  }
}
