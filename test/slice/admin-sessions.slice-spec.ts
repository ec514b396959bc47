import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { adminRateLimitProvider } from '../../src/admin/common/admin-route.js';
import { RecentSignInGuard } from '../../src/admin/common/recent-sign-in.guard.js';
import { AdminSessionsController } from '../../src/admin/sessions/admin-sessions.controller.js';
import { AdminSessionsService } from '../../src/admin/sessions/admin-sessions.service.js';
import type { Principal } from '../../src/auth/auth.principal.js';
import { SessionsService } from '../../src/auth/sessions/sessions.service.js';
import { NotFoundError } from '../../src/common/errors/app-error.js';
import { StoreUnavailableError } from '../../src/store/store.errors.js';
import { RecordingFake, sliceSuite } from '../support/controller-slice.js';
import { expectError } from '../support/http.js';

const USER = '0b6f2a1e-6c1d-4a57-9a53-0f1d6c1b2e3f';
const SESSION = '5d1c9e47-2f0b-4b8e-8d7a-3c2e1f0a9b8c';
const principal = (roles: Principal['roles'], sessionId: string): Principal => ({
  userId: '11111111-1111-4111-8111-111111111111',
  sessionId,
  kind: 'web',
  deviceId: null,
  roles,
  amr: ['pwd'],
});
/** `stale-admin` signed in long ago (no recent credential); the others just did. */
const PRINCIPALS = {
  admin: principal(['user', 'admin'], '22222222-2222-4222-8222-222222222222'),
  'stale-admin': principal(['user', 'admin'], '33333333-3333-4333-8333-333333333333'),
  auditor: principal(['user', 'auditor'], '44444444-4444-4444-8444-444444444444'),
  user: principal(['user'], '55555555-5555-4555-8555-555555555555'),
};

/**
 * The admin sessions routes alone (controller slice): their query validation,
 * roles, the recent sign-in that revoking all of a user's sessions needs, and
 * how the service's errors reach the client. The service is the admin
 * sessions e2e suite's.
 */
describe('admin sessions routes (controller slice)', () => {
  const fake = new RecordingFake(['list', 'listForUser', 'revoke', 'revokeAll'], (method) =>
    method.startsWith('revoke') ? undefined : { items: [], nextCursor: null },
  );
  const sessions = {
    hasFreshCredential: async (sessionId: string) => sessionId !== PRINCIPALS['stale-admin'].sessionId,
  };
  const as = (who: keyof typeof PRINCIPALS) => ({ Authorization: `Bearer ${who}` });
  const calls = fake.calls;
  const slice = sliceSuite(
    AdminSessionsController,
    [
      { provide: AdminSessionsService, useValue: fake.service },
      { provide: SessionsService, useValue: sessions },
      RecentSignInGuard,
      adminRateLimitProvider,
    ],
    PRINCIPALS,
    fake,
  );

  it('lets auditors read but not revoke, and nobody without a token or role, before the service is asked', async () => {
    expectError(await request(slice.url).get('/api/v1/admin/sessions'), 401, 'auth.unauthenticated');
    expectError(await request(slice.url).get('/api/v1/admin/sessions').set(as('user')), 403, 'auth.forbidden');
    expectError(
      await request(slice.url).delete(`/api/v1/admin/users/${USER}/sessions/${SESSION}`).set(as('auditor')),
      403,
      'auth.forbidden',
    );
    expect(calls).toEqual([]);
    await request(slice.url).get('/api/v1/admin/sessions').set(as('auditor')).expect(200);
    await request(slice.url).get(`/api/v1/admin/users/${USER}/sessions`).set(as('auditor')).expect(200);
    expect(calls.map((c) => c.method)).toEqual(['list', 'listForUser']);
  });

  it('revoking every session of a user needs a recent sign-in (401 auth.reauth_required); one session does not', async () => {
    expectError(
      await request(slice.url).delete(`/api/v1/admin/users/${USER}/sessions`).set(as('stale-admin')),
      401,
      'auth.reauth_required',
    );
    expect(calls).toEqual([]);
    await request(slice.url)
      .delete(`/api/v1/admin/users/${USER}/sessions/${SESSION}`)
      .set(as('stale-admin'))
      .expect(204);
    await request(slice.url).delete(`/api/v1/admin/users/${USER}/sessions`).set(as('admin')).expect(204);
    expect(calls.map((c) => [c.method, ...c.args.slice(1)])).toEqual([
      ['revoke', USER, SESSION],
      ['revokeAll', USER],
    ]);
  });

  it.each([
    ['a malformed user id', 404, 'not_found', 'get', '/api/v1/admin/users/not-a-uuid/sessions'],
    ['a malformed session id', 404, 'not_found', 'delete', `/api/v1/admin/users/${USER}/sessions/42`],
    ['active=yes', 400, 'validation.failed', 'get', '/api/v1/admin/sessions?active=yes'],
    ['kind=tablet', 400, 'validation.failed', 'get', '/api/v1/admin/sessions?kind=tablet'],
    ['createdVia=oauth:', 400, 'validation.failed', 'get', '/api/v1/admin/sessions?createdVia=oauth:'],
    ['a userId that is not a uuid', 400, 'validation.failed', 'get', '/api/v1/admin/sessions?userId=42'],
    ['limit=0', 400, 'validation.failed', 'get', `/api/v1/admin/users/${USER}/sessions?limit=0`],
    ['a cursor with a dot', 400, 'validation.failed', 'get', '/api/v1/admin/sessions?cursor=a.b'],
    ['an unknown query field', 400, 'validation.failed', 'get', '/api/v1/admin/sessions?sort=ip'],
    ['a query on a revoke', 400, 'validation.failed', 'delete', `/api/v1/admin/users/${USER}/sessions?force=1`],
  ] as const)('refuses %s with %i %s, and the service never sees it', async (_what, status, code, method, path) => {
    expectError(await request(slice.url)[method](path).set(as('admin')), status, code);
    expect(calls).toEqual([]);
  });

  it('hands the service the parsed query: defaults filled in, booleans and ids normalised', async () => {
    await request(slice.url)
      .get(`/api/v1/admin/sessions?userId=${USER.toUpperCase()}&kind=mobile&createdVia=oauth:wechat&active=false`)
      .set(as('admin'))
      .expect(200);
    await request(slice.url).get(`/api/v1/admin/users/${USER}/sessions?limit=5`).set(as('admin')).expect(200);
    expect(calls.map((c) => [c.method, ...c.args])).toEqual([
      ['list', { limit: 50, userId: USER, kind: 'mobile', createdVia: 'oauth:wechat', active: false }],
      ['listForUser', USER, { limit: 5, active: true }],
    ]);
  });

  it.each([
    [new NotFoundError('No such session.'), 404, 'not_found'],
    [new StoreUnavailableError(), 503, 'store.unavailable'],
    [new Error('a bug below the route'), 500, 'internal'],
  ])('maps %s thrown by the service to %i %s in the envelope', async (error, status, code) => {
    fake.failWith(error);
    const res = await request(slice.url).delete(`/api/v1/admin/users/${USER}/sessions/${SESSION}`).set(as('admin'));
    expectError(res, status, code);
    if (status === 500) expect(res.body.message).not.toContain('a bug below the route');
  });
});
