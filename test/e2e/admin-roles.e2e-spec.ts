import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createUser } from '../support/accounts.js';
import { Clock } from '../../src/common/clock/clock.js';
import { adminCast, signedInAs } from '../support/admin.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { FakeClock } from '../support/fake-clock.js';
import { testConfig } from '../support/test-config.js';

/**
 * The role matrix of the admin API, over every route the OpenAPI document
 * lists under /api/v1/admin (so a new route is covered the day it appears):
 * anonymous → 401, a plain user → 403, an auditor → reads only, an admin →
 * everything. "Allowed" means the guard let the request through: whatever
 * the route then answers (404 for the made-up ids, 400 for an empty body…),
 * it is never 401 or 403 for that reason.
 */
describe('admin API role matrix (admin, auditor, user, anonymous × every route)', () => {
  let t: TestApp;
  let cast: Awaited<ReturnType<typeof adminCast>>;
  let routes: Array<{ method: string; path: string }>;
  let target: string;

  beforeAll(async () => {
    t = await createTestApp({ config: testConfig({ LOG_LEVEL: 'warn', RATE_LIMITS: 'off' }) });
    cast = await adminCast(t);
    // A user the destructive routes may act on without touching the cast.
    target = (await createUser(t)).user.id;
    const document = (await request(t.url).get('/api/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    routes = Object.entries(document.paths)
      .filter(([path]) => path.startsWith('/api/v1/admin'))
      .flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => ({ method: method.toUpperCase(), path })),
      );
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  /** The route with its path parameters filled: the target user for `{id}`, made-up ids elsewhere. */
  const concrete = (path: string) =>
    path
      .replace('{id}', target)
      .replace(/\{[A-Za-z]+\}/g, (name) =>
        name === '{provider}' || name === '{providerId}' ? 'wechat' : randomUUID(),
      );

  function call(method: string, path: string, auth: Record<string, string> = {}) {
    const verb = method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete' | 'put';
    const req = request(t.url)[verb](concrete(path)).set(auth);
    // Bodies that cannot pass validation: the guard's answer is what is measured, and nothing changes.
    return method === 'GET' || method === 'DELETE' ? req : req.send({ __roleMatrix: true });
  }

  it('lists the admin routes the issue asks for in the OpenAPI document', () => {
    const paths = new Set(routes.map((r) => r.path));
    for (const path of ['/api/v1/admin/users', '/api/v1/admin/users/{id}']) expect(paths).toContain(path);
    expect(routes.length).toBeGreaterThanOrEqual(4);
  });

  it('refuses anonymous callers everywhere with 401 auth.unauthenticated', async () => {
    for (const { method, path } of routes) {
      const res = await call(method, path);
      expect({ method, path, status: res.status, code: res.body.code }).toEqual({
        method,
        path,
        status: 401,
        code: 'auth.unauthenticated',
      });
    }
  });

  it('refuses a plain user everywhere with 403 auth.forbidden', async () => {
    for (const { method, path } of routes) {
      const res = await call(method, path, cast.user.auth);
      expect({ method, path, status: res.status, code: res.body.code }).toEqual({
        method,
        path,
        status: 403,
        code: 'auth.forbidden',
      });
    }
  });

  it('lets an auditor read every collection and resource, and refuses every change with 403', async () => {
    for (const { method, path } of routes) {
      const res = await call(method, path, cast.auditor.auth);
      if (method === 'GET')
        expect({ method, path, status: [401, 403].includes(res.status) ? res.status : 'allowed' }).toEqual({
          method,
          path,
          status: 'allowed',
        });
      else
        expect({ method, path, status: res.status, code: res.body.code }).toEqual({
          method,
          path,
          status: 403,
          code: 'auth.forbidden',
        });
    }
  });

  it('lets an admin through every route', async () => {
    for (const { method, path } of routes) {
      const res = await call(method, path, cast.admin.auth);
      expect({
        method,
        path,
        status: [401, 403].includes(res.status) ? `${res.status} ${res.body.code}` : 'allowed',
      }).toEqual({ method, path, status: 'allowed' });
    }
  });
});

describe('admin API rate limit (per admin, at least 50 requests per second)', () => {
  let t: TestApp;
  // The limit's window is counted in the in-process store on this clock: a
  // stopped clock keeps a slow burst (a loaded machine) inside one window.
  const clock = new FakeClock(Date.now());

  beforeAll(async () => {
    t = await createTestApp({
      config: testConfig({ LOG_LEVEL: 'warn', RATE_LIMITS: 'on' }),
      override: (b) => b.overrideProvider(Clock).useValue(clock),
    });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  it('lets 50 requests in a second through, answers a burst of 300 with some 429 rate_limited (Retry-After), and counts each admin apart', async () => {
    const [busy, other] = [await signedInAs(t, ['admin']), await signedInAs(t, ['auditor'])];
    // 50 in one window (well within one second's allowance of 100): all through.
    const fifty = await Promise.all(
      Array.from({ length: 50 }, () => request(t.url).get('/api/v1/admin/providers').set(busy.auth)),
    );
    expect(fifty.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
    clock.advance(1_100); // a fresh window
    const burst = await Promise.all(
      Array.from({ length: 300 }, () => request(t.url).get('/api/v1/admin/providers').set(busy.auth)),
    );
    const limited = burst.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.body.code).toBe('rate_limited');
    expect(Number(limited[0]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Another admin is not slowed by the first one's burst.
    await request(t.url).get('/api/v1/admin/providers').set(other.auth).expect(200);
  });
});
