import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { expectError } from '../support/http.js';
import { auditRows, auditTexts, db, insertIdentity, sessionRow } from '../support/rows.js';
import { NO_LOGIN_LIMITS, testConfig } from '../support/test-config.js';
import { bearer, createUser, loginMobile, loginWeb, TEST_PASSWORD } from '../support/accounts.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';

const ORIGIN = 'http://localhost:3000'; // testConfig's default PUBLIC_URL origin
const NOBODY = '00000000-0000-4000-8000-000000000000';
const USER_KEYS = ['avatarUrl', 'createdAt', 'displayName', 'id', 'login', 'roles', 'status', 'updatedAt'];

describe('admin users API: POST /admin/users, GET and PATCH /admin/users/{id} (embedded)', () => {
  let t: TestApp;
  let admin: string;
  let auditor: string;
  let plain: string;
  const secrets = new Set<string>([TEST_PASSWORD]);

  beforeAll(async () => {
    t = await createTestApp({ config: testConfig({ DEMO_USER: 'off', ...NO_LOGIN_LIMITS }) });
    const [a, au, u] = await Promise.all([
      createUser(t, { roles: ['admin'] }),
      createUser(t, { roles: ['auditor'] }),
      createUser(t, { roles: ['user'] }),
    ]);
    admin = (await loginMobile(t, a.login)).accessToken;
    auditor = (await loginMobile(t, au.login)).accessToken;
    plain = (await loginMobile(t, u.login)).accessToken;
  });
  afterAll(async () => {
    await t?.close();
  });

  const create = (token: string, body: object) =>
    request(t.url).post('/api/v1/admin/users').set(bearer(token)).send(body);
  const get = (token: string, id: string) => request(t.url).get(`/api/v1/admin/users/${id}`).set(bearer(token));
  const patch = (token: string, id: string, body: object) =>
    request(t.url).patch(`/api/v1/admin/users/${id}`).set(bearer(token)).send(body);
  const me = (token: string) => request(t.url).get('/api/v1/me').set(bearer(token));
  const signIn = (login: string, password: string) =>
    request(t.url).post('/api/v1/auth/login').send({ login, password });
  const uniqueLogin = (prefix: string) =>
    `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

  describe('roles', () => {
    it('a user-role caller is 403 auth.forbidden on all three routes, and nothing changes', async () => {
      const { user } = await createUser(t);
      const login = uniqueLogin('forbidden');
      expectError(
        await create(plain, { login, password: 'a long enough passphrase', displayName: 'X' }),
        403,
        'auth.forbidden',
      );
      expectError(await get(plain, user.id), 403, 'auth.forbidden');
      expectError(await patch(plain, user.id, { status: 'disabled' }), 403, 'auth.forbidden');
      expect(await db(t).query('SELECT id FROM users WHERE login = $1', [login])).toHaveLength(0);
      expect((await get(admin, user.id).expect(200)).body.status).toBe('active');
    });

    it('an auditor may GET, but POST and PATCH are 403 auth.forbidden', async () => {
      const { user } = await createUser(t);
      const res = await get(auditor, user.id).expect(200);
      expect(res.body.id).toBe(user.id);
      expectError(await create(auditor, { login: uniqueLogin('audited'), displayName: 'X' }), 403, 'auth.forbidden');
      expectError(await patch(auditor, user.id, { status: 'disabled' }), 403, 'auth.forbidden');
      expect((await get(admin, user.id).expect(200)).body.status).toBe('active');
    });

    it('a user-role caller’s forbidden answers do not leak whether the id exists', async () => {
      expectError(await get(plain, NOBODY), 403, 'auth.forbidden');
      expectError(await get(plain, 'malformed'), 403, 'auth.forbidden');
    });
  });

  describe('POST /admin/users', () => {
    it('creates a user: 201 with exactly the user shape, roles default to ["user"], login normalised, and no password hash anywhere', async () => {
      const login = uniqueLogin('NewHire');
      const password = 'the new hire passphrase';
      secrets.add(password);
      const res = await create(admin, { login, password, displayName: 'New Hire' }).expect(201);
      expect(Object.keys(res.body).sort()).toEqual(USER_KEYS);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        login: login.toLowerCase(),
        displayName: 'New Hire',
        avatarUrl: null,
        status: 'active',
        roles: ['user'],
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect(JSON.stringify(res.body)).not.toMatch(/password|argon2|hash/i);
      const signedIn = await signIn(login, password).expect(200);
      expect(signedIn.body.user.id).toBe(res.body.id);
    });

    it('creates with the given roles', async () => {
      const res = await create(admin, {
        login: uniqueLogin('ops'),
        password: 'an operator passphrase',
        displayName: 'Ops',
        roles: ['auditor', 'admin'],
      }).expect(201);
      expect([...res.body.roles].sort()).toEqual(['admin', 'auditor']);
    });

    it('a login already taken, whatever its case, is 409 conflict', async () => {
      const login = uniqueLogin('taken');
      await create(admin, { login, displayName: 'First' }).expect(201);
      expectError(await create(admin, { login: login.toUpperCase(), displayName: 'Second' }), 409, 'conflict');
      expectError(
        await create(admin, { login, password: 'another passphrase', displayName: 'Third' }),
        409,
        'conflict',
      );
      expect(await db(t).query('SELECT id FROM users WHERE login = $1', [login.toLowerCase()])).toHaveLength(1);
    });

    it('a weak password (too short, or the login) is 400 validation.failed with detail path password, and no user is created', async () => {
      const login = uniqueLogin('weak');
      for (const password of ['short', '123456789', login, login.toUpperCase()]) {
        const res = await create(admin, { login, password, displayName: 'Weak' });
        expectError(res, 400, 'validation.failed');
        expect(res.body.details.map((d: { path: string }) => d.path)).toEqual(['password']);
      }
      expect(await db(t).query('SELECT id FROM users WHERE login = $1', [login])).toHaveLength(0);
    });

    it('unknown fields, an unknown role and a missing displayName are 400 validation.failed', async () => {
      expectError(
        await create(admin, { login: uniqueLogin('x'), displayName: 'X', status: 'disabled' }),
        400,
        'validation.failed',
      );
      expectError(
        await create(admin, { login: uniqueLogin('x'), displayName: 'X', roles: ['root'] }),
        400,
        'validation.failed',
      );
      expectError(await create(admin, { login: uniqueLogin('x') }), 400, 'validation.failed');
    });

    it('a user created without a password cannot sign in with any password', async () => {
      const login = uniqueLogin('nopass');
      const res = await create(admin, { login, displayName: 'Provider only' }).expect(201);
      const rows = (await db(t).query('SELECT password_hash FROM users WHERE id = $1', [res.body.id])) as Array<{
        password_hash: string | null;
      }>;
      expect(rows[0]!.password_hash).toBeNull();
      for (const password of [TEST_PASSWORD, login, 'x', 'null', 'undefined']) {
        expectError(await signIn(login, password), 401, 'auth.invalid_credentials');
      }
    });
  });

  describe('GET /admin/users/{id}', () => {
    it('answers the user with its identities and the count of active sessions', async () => {
      const { user, login } = await createUser(t);
      const identity = await insertIdentity(t, user.id, 'wechat', `wx-${user.id}`);
      const phone = await loginMobile(t, login);
      await loginWeb(t, login);
      const gone = await loginMobile(t, login);
      await request(t.url).post('/api/v1/auth/logout').set(bearer(gone.accessToken)).expect(204);

      const res = await get(admin, user.id).expect(200);
      expect(Object.keys(res.body).sort()).toEqual([...USER_KEYS, 'activeSessions', 'identities'].sort());
      expect(res.body).toMatchObject({ id: user.id, login, status: 'active', activeSessions: 2 });
      expect(res.body.identities).toEqual([
        expect.objectContaining({ id: identity, provider: 'wechat', subject: `wx-${user.id}`, subjectKind: 'unionid' }),
      ]);
      expect(JSON.stringify(res.body)).not.toMatch(/password|argon2/i);

      await request(t.url).delete(`/api/v1/me/sessions/${phone.sessionId}`).set(bearer(phone.accessToken)).expect(204);
      expect((await get(admin, user.id).expect(200)).body.activeSessions).toBe(1);
    });

    it('a malformed id or an unknown one is 404 not_found', async () => {
      for (const id of ['malformed', '12345', NOBODY]) expectError(await get(admin, id), 404, 'not_found');
      expectError(await get(auditor, 'malformed'), 404, 'not_found');
    });
  });

  describe('PATCH /admin/users/{id}', () => {
    it('status "disabled": the user’s mobile and web access tokens are refused on the very next request, their refresh too, and sign-in is 403 auth.account_disabled', async () => {
      const { user, login } = await createUser(t);
      const phone = await loginMobile(t, login);
      const browser = await loginWeb(t, login);
      await me(phone.accessToken).expect(200);
      await me(browser.accessToken).expect(200);

      const res = await patch(admin, user.id, { status: 'disabled' }).expect(200);
      expect(Object.keys(res.body).sort()).toEqual(USER_KEYS);
      expect(res.body).toMatchObject({ id: user.id, status: 'disabled' });

      expectError(await me(phone.accessToken), 401, 'auth.unauthenticated');
      expectError(await me(browser.accessToken), 401, 'auth.unauthenticated');
      expect(
        (await request(t.url).post('/api/v1/auth/refresh').send({ refreshToken: phone.refreshToken })).status,
      ).toBe(401);
      expect(
        (await request(t.url).post('/api/v1/auth/refresh').set('Origin', ORIGIN).set('Cookie', browser.cookie)).status,
      ).toBe(401);
      expectError(await signIn(login, TEST_PASSWORD), 403, 'auth.account_disabled');
      expectError(await signIn(login, 'a wrong password'), 401, 'auth.invalid_credentials');
      expect((await get(admin, user.id).expect(200)).body).toMatchObject({ status: 'disabled', activeSessions: 0 });
      expect(await sessionRow(t, phone.sessionId)).toMatchObject({ revoke_reason: 'user_disabled' });
    });

    it('status "active" again: sign-in works, but the old sessions stay revoked', async () => {
      const { user, login } = await createUser(t);
      const phone = await loginMobile(t, login);
      const browser = await loginWeb(t, login);
      await patch(admin, user.id, { status: 'disabled' }).expect(200);
      const revokedAt = (await sessionRow(t, phone.sessionId))!.revoked_at as Date;

      const res = await patch(admin, user.id, { status: 'active' }).expect(200);
      expect(res.body.status).toBe('active');
      const fresh = await loginMobile(t, login);
      await me(fresh.accessToken).expect(200);
      expectError(await me(phone.accessToken), 401, 'auth.unauthenticated');
      expectError(await me(browser.accessToken), 401, 'auth.unauthenticated');
      expect(
        (await request(t.url).post('/api/v1/auth/refresh').send({ refreshToken: phone.refreshToken })).status,
      ).toBe(401);
      expect(
        (await request(t.url).post('/api/v1/auth/refresh').set('Origin', ORIGIN).set('Cookie', browser.cookie)).status,
      ).toBe(401);
      expect(((await sessionRow(t, phone.sessionId))!.revoked_at as Date).getTime()).toBe(revokedAt.getTime());
      expect((await get(admin, user.id).expect(200)).body.activeSessions).toBe(1);
    });

    it('a new password: every session is revoked, the new password signs in, the old one no longer', async () => {
      const { user, login } = await createUser(t);
      const phone = await loginMobile(t, login);
      const browser = await loginWeb(t, login);
      const password = 'reset by the administrator';
      secrets.add(password);
      const res = await patch(admin, user.id, { password }).expect(200);
      expect(res.body).toMatchObject({ id: user.id, status: 'active' });
      expect(JSON.stringify(res.body)).not.toMatch(/password|argon2/i);
      expectError(await me(phone.accessToken), 401, 'auth.unauthenticated');
      expectError(await me(browser.accessToken), 401, 'auth.unauthenticated');
      expect(
        (await request(t.url).post('/api/v1/auth/refresh').send({ refreshToken: phone.refreshToken })).status,
      ).toBe(401);
      expectError(await signIn(login, TEST_PASSWORD), 401, 'auth.invalid_credentials');
      await signIn(login, password).expect(200);
    });

    it('a weak new password is 400 validation.failed with detail path password, and changes nothing', async () => {
      const { user, login } = await createUser(t);
      const phone = await loginMobile(t, login);
      for (const password of ['short', login]) {
        const res = await patch(admin, user.id, { password });
        expectError(res, 400, 'validation.failed');
        expect(res.body.details.map((d: { path: string }) => d.path)).toEqual(['password']);
      }
      await me(phone.accessToken).expect(200);
      await signIn(login, TEST_PASSWORD).expect(200);
    });

    it('an empty body, an unknown field or an unknown status is 400 validation.failed', async () => {
      const { user, login } = await createUser(t);
      const phone = await loginMobile(t, login);
      expectError(await patch(admin, user.id, {}), 400, 'validation.failed');
      expectError(await patch(admin, user.id, { status: 'disabled', nickname: 'x' }), 400, 'validation.failed');
      expectError(await patch(admin, user.id, { status: 'banned' }), 400, 'validation.failed');
      await me(phone.accessToken).expect(200);
      expect((await get(admin, user.id).expect(200)).body.status).toBe('active');
    });

    it('a malformed or unknown id is 404 not_found', async () => {
      expectError(await patch(admin, 'malformed', { status: 'disabled' }), 404, 'not_found');
      expectError(await patch(admin, NOBODY, { status: 'disabled' }), 404, 'not_found');
    });
  });

  describe('audit', () => {
    it('creation and changes are audited with the acting admin, and no row holds a password or a token', async () => {
      const login = uniqueLogin('audited');
      const password = 'audited user passphrase';
      secrets.add(password);
      const created = await create(admin, { login, password, displayName: 'Audited' }).expect(201);
      const session = await loginMobile(t, login, password);
      secrets.add(session.accessToken).add(session.refreshToken).add(admin);
      const newPassword = 'audited user passphrase 2';
      secrets.add(newPassword);
      await patch(admin, created.body.id, { password: newPassword, status: 'disabled' }).expect(200);

      const rows = await auditRows(t, `user_id = $1 AND type IN ('user.created', 'user.updated')`, [created.body.id]);
      expect(rows.map((r) => r.type)).toEqual(['user.created', 'user.updated']);
      expect(rows.every((r) => r.actor_id !== null && r.actor_id !== created.body.id)).toBe(true);
      expect(rows[1]!.detail).toMatchObject({
        changes: {
          password: { before: '[secret]', after: '[changed]' },
          status: { before: 'active', after: 'disabled' },
        },
        revokedSessions: 1,
        via: 'admin',
        requestId: expect.any(String),
      });

      const texts = await auditTexts(t);
      for (const secret of secrets) expect(texts.filter((text) => text.includes(secret))).toEqual([]);
      expect(texts.join('\n')).not.toMatch(/argon2|eyJ[A-Za-z0-9_-]{10,}\./);
    });
  });
});
