import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { AdminUsersController } from '../../src/admin/users/admin-users.controller.js';
import { AdminUsersService } from '../../src/admin/users/admin-users.service.js';
import { adminRateLimitProvider } from '../../src/admin/common/admin-route.js';
import { AdminError } from '../../src/admin/common/admin.errors.js';
import type { Principal } from '../../src/auth/auth.principal.js';
import { AuthError } from '../../src/auth/auth.errors.js';
import { NotFoundError } from '../../src/common/errors/app-error.js';
import type { UserRow } from '../../src/users/user.directory.js';
import { User } from '../../src/users/user.entity.js';
import { RecordingFake, sliceSuite } from '../support/controller-slice.js';
import { expectError } from '../support/http.js';

const ID = '0b6f2a1e-6c1d-4a57-9a53-0f1d6c1b2e3f';
const principal = (roles: Principal['roles']): Principal => ({
  userId: '11111111-1111-4111-8111-111111111111',
  sessionId: '22222222-2222-4222-8222-222222222222',
  kind: 'web',
  deviceId: null,
  roles,
  amr: ['pwd'],
});
const PRINCIPALS = {
  admin: principal(['user', 'admin']),
  auditor: principal(['user', 'auditor']),
  user: principal(['user']),
};

function row(): UserRow {
  const user = Object.assign(new User(), {
    id: ID,
    login: 'lilei',
    displayName: 'Li Lei',
    avatarUrl: null,
    status: 'active',
    roles: ['user'],
    createdAt: new Date('2026-11-26T08:00:00Z'),
    updatedAt: new Date('2026-11-26T08:00:00Z'),
  });
  return { user, version: '2026-11-26 08:00:00+00', key: [] } as unknown as UserRow;
}

/**
 * The admin users routes alone (controller slice): their validation, their
 * roles and the mapping of the service's domain errors, against a service
 * that records what reached it. The service itself is the admin e2e suites'.
 */
describe('admin users routes (controller slice)', () => {
  const fake = new RecordingFake(['list', 'get', 'create', 'patch', 'delete'], (method) => {
    if (method === 'get') return { row: row(), activeSessions: 0, identities: [] };
    if (method === 'list') return { items: [], nextCursor: null };
    return method === 'delete' ? undefined : row();
  });
  const calls = fake.calls;
  const as = (who: keyof typeof PRINCIPALS) => ({ Authorization: `Bearer ${who}` });
  const slice = sliceSuite(
    AdminUsersController,
    [{ provide: AdminUsersService, useValue: fake.service }, adminRateLimitProvider],
    PRINCIPALS,
    fake,
  );

  it('refuses a caller without a token (401) or without the role (403), before the service is asked', async () => {
    expectError(await request(slice.url).get(`/api/v1/admin/users/${ID}`), 401, 'auth.unauthenticated');
    expectError(await request(slice.url).get(`/api/v1/admin/users/${ID}`).set(as('user')), 403, 'auth.forbidden');
    expectError(
      await request(slice.url).patch(`/api/v1/admin/users/${ID}`).set(as('auditor')).send({ displayName: 'X' }),
      403,
      'auth.forbidden',
    );
    expect(calls).toEqual([]);
    await request(slice.url).get(`/api/v1/admin/users/${ID}`).set(as('auditor')).expect(200);
    expect(calls.map((c) => c.method)).toEqual(['get']);
  });

  it.each([
    ['a malformed id', 404, 'not_found', 'get', `/api/v1/admin/users/not-a-uuid`, undefined],
    ['an unknown query field', 400, 'validation.failed', 'get', `/api/v1/admin/users/${ID}?expand=all`, undefined],
    ['an empty patch', 400, 'validation.failed', 'patch', `/api/v1/admin/users/${ID}`, {}],
    ['an unknown body field', 400, 'validation.failed', 'patch', `/api/v1/admin/users/${ID}`, { admin: true }],
    ['an unknown role', 400, 'validation.failed', 'patch', `/api/v1/admin/users/${ID}`, { roles: ['root'] }],
    [
      'a javascript: avatar',
      400,
      'validation.failed',
      'patch',
      `/api/v1/admin/users/${ID}`,
      { avatarUrl: 'javascript:alert(1)' },
    ],
    [
      'a control character in a name',
      400,
      'validation.failed',
      'post',
      '/api/v1/admin/users',
      { login: 'a', displayName: 'x\u0007' },
    ],
    ['hard=yes', 400, 'validation.failed', 'delete', `/api/v1/admin/users/${ID}?hard=yes`, undefined],
  ] as const)(
    'refuses %s with %i %s, and the service never sees it',
    async (_what, status, code, method, path, body) => {
      const req = request(slice.url)[method](path).set(as('admin'));
      expectError(await (body === undefined ? req : req.send(body)), status, code);
      expect(calls).toEqual([]);
    },
  );

  it('hands the service the parsed input: trimmed fields, If-Match, hard as a boolean', async () => {
    await request(slice.url)
      .patch(`/api/v1/admin/users/${ID}`)
      .set(as('admin'))
      .set('If-Match', '"v1"')
      .send({ displayName: '  Han Meimei  ' })
      .expect(200);
    await request(slice.url).delete(`/api/v1/admin/users/${ID}?hard=true`).set(as('admin')).expect(204);
    expect(calls.map(({ method, args }) => [method, ...args.slice(1)])).toEqual([
      ['patch', ID, { displayName: 'Han Meimei' }, '"v1"'],
      ['delete', ID, true],
    ]);
  });

  it.each([
    [new AdminError('precondition_failed', 'Changed since you read it.'), 412, 'precondition_failed'],
    [new AuthError('auth.reauth_required'), 401, 'auth.reauth_required'],
    [new NotFoundError('No such user.'), 404, 'not_found'],
    [new Error('a bug below the route'), 500, 'internal'],
  ])('maps %s thrown by the service to %i %s in the envelope', async (error, status, code) => {
    fake.failWith(error);
    const res = await request(slice.url).patch(`/api/v1/admin/users/${ID}`).set(as('admin')).send({ displayName: 'X' });
    expectError(res, status, code);
    if (status === 500) expect(res.body.message).not.toContain('a bug below the route');
  });
});
