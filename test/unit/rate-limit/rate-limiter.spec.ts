import { describe, expect, it } from '@jest/globals';
import type { Request } from 'express';
import { type AppError } from '../../../src/common/errors/app-error.js';
import type { AppConfig } from '../../../src/config/config.types.js';
import { MemoryStore } from '../../../src/store/memory.store.js';
import { FakeClock } from '../../support/fake-clock.js';
import { RateLimiter, type RateLimitRule } from '../../../src/rate-limit/rate-limiter.js';

const req = (ip: string, login?: string) => ({ ip, body: { login } }) as unknown as Request;
const rules: RateLimitRule[] = [
  { name: 'ip', windowMs: 60_000, limit: 3, key: (r) => r.ip! },
  { name: 'login', windowMs: 900_000, limit: 2, key: (r) => String((r.body as { login: string }).login) },
];

function limiter(rateLimits = true) {
  const clock = new FakeClock();
  const store = new MemoryStore(clock);
  return { clock, store, limiter: new RateLimiter(store, { rateLimits } as AppConfig) };
}

async function refusal(run: Promise<void>): Promise<AppError | undefined> {
  try {
    await run;
    return undefined;
  } catch (error) {
    return error as AppError;
  }
}

describe('RateLimiter', () => {
  it('lets requests through up to the limit, then answers rate_limited with Retry-After in seconds', async () => {
    const { limiter: l, store } = limiter();
    await l.check(rules, req('1.1.1.1', 'a'));
    await l.check(rules, req('1.1.1.1', 'a'));
    const error = await refusal(l.check(rules, req('1.1.1.1', 'a')));
    expect(error).toMatchObject({ code: 'rate_limited', headers: { 'Retry-After': '900' } });
    store.onApplicationShutdown();
  });

  it('counts each key apart: another login from the same IP still passes until the IP limit', async () => {
    const { limiter: l, store } = limiter();
    await l.check(rules, req('1.1.1.1', 'a'));
    await l.check(rules, req('1.1.1.1', 'b'));
    await l.check(rules, req('1.1.1.1', 'c'));
    expect(await refusal(l.check(rules, req('1.1.1.1', 'd')))).toMatchObject({ headers: { 'Retry-After': '60' } });
    await l.check(rules, req('2.2.2.2', 'e'));
    store.onApplicationShutdown();
  });

  it('opens again when the window ends', async () => {
    const { limiter: l, clock, store } = limiter();
    for (let i = 0; i < 3; i++) await refusal(l.check(rules, req('1.1.1.1', 'a')));
    expect(await refusal(l.check(rules, req('1.1.1.1', 'a')))).toBeDefined();
    clock.advance(900_001);
    expect(await refusal(l.check(rules, req('1.1.1.1', 'a')))).toBeUndefined();
    store.onApplicationShutdown();
  });

  it('does nothing when RATE_LIMITS=off', async () => {
    const { limiter: l, store } = limiter(false);
    for (let i = 0; i < 10; i++) await l.check(rules, req('1.1.1.1', 'a'));
    store.onApplicationShutdown();
  });
});
