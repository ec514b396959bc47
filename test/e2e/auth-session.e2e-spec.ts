import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { bearer, createUser, loginMobile, loginWeb, TEST_PASSWORD } from '../support/accounts.js';
import { suiteApp } from '../support/create-test-app.js';
import { cookieToken, expectError, refreshSetCookie } from '../support/http.js';
import { KeptSecrets } from '../support/kept-secrets.js';
import { auditRows, sessionRow } from '../support/rows.js';
import { testConfig } from '../support/test-config.js';

const ORIGIN = 'http://localhost:3000'; // testConfig's default PUBLIC_URL origin
const NOBODY = '00000000-0000-4000-8000-000000000000';

/** What a signed-in session does at /auth: sign out, re-authenticate, and the routes that need a token at all. */
describe('POST /auth/logout, /auth/reauth and authentication', () => {
  const t = suiteApp({ config: testConfig({ RATE_LIMITS: 'off', DEMO_USER: 'off' }) });
  const secrets = new KeptSecrets();
  const keep = secrets.keep;

  const me = (token: string) => request(t.url).get('/api/v1/me').set(bearer(token));

  describe('POST /auth/logout', () => {
    it('a mobile session: its access token is refused on the next request, and its refresh token too', async () => {
      const { login: name } = await createUser(t);
      const s = keep(await loginMobile(t, name));
      await request(t.url).post('/api/v1/auth/logout').set(bearer(s.accessToken)).expect(204);
      expectError(await me(s.accessToken), 401, 'auth.unauthenticated');
      const refresh = await request(t.url).post('/api/v1/auth/refresh').send({ refreshToken: s.refreshToken });
      expect(refresh.status).toBe(401);
      expect(refresh.body.refreshToken).toBeUndefined();
      expect((await sessionRow(t, s.sessionId))!.revoked_at).not.toBeNull();
    });

    it('a web session: the cookie is cleared, the access token and the refresh cookie are refused', async () => {
      const { login: name } = await createUser(t);
      const w = keep(await loginWeb(t, name));
      const out = await request(t.url)
        .post('/api/v1/auth/logout')
        .set(bearer(w.accessToken))
        .set('Cookie', w.cookie)
        .expect(204);
      const cleared = refreshSetCookie(out);
      expect(cleared).toBeDefined();
      expect(cookieToken(cleared!)).toBe('');
      expect(cleared!.toLowerCase()).toContain('path=/api/v1/auth');
      expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970|Max-Age=0/i);
      expectError(await me(w.accessToken), 401, 'auth.unauthenticated');
      const refresh = await request(t.url).post('/api/v1/auth/refresh').set('Origin', ORIGIN).set('Cookie', w.cookie);
      expect(refresh.status).toBe(401);
      expect(refreshSetCookie(refresh) && cookieToken(refreshSetCookie(refresh)!)).toBeFalsy();
    });

    it('signing out one session leaves the user’s other sessions working', async () => {
      const { login: name } = await createUser(t);
      const a = keep(await loginMobile(t, name));
      const b = keep(await loginMobile(t, name));
      await request(t.url).post('/api/v1/auth/logout').set(bearer(a.accessToken)).expect(204);
      await me(b.accessToken).expect(200);
      await request(t.url)
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: b.refreshToken })
        .expect(200)
        .then((r) => keep(r.body));
    });
  });

  describe('POST /auth/reauth', () => {
    it('the right password answers 200 { reauthenticatedAt } and records the time on the session', async () => {
      const { login: name } = await createUser(t);
      const s = keep(await loginMobile(t, name));
      const before = (await sessionRow(t, s.sessionId))!.authenticated_at as Date;
      await new Promise((r) => setTimeout(r, 5));
      const res = await request(t.url)
        .post('/api/v1/auth/reauth')
        .set(bearer(s.accessToken))
        .send({ password: TEST_PASSWORD })
        .expect(200);
      expect(Object.keys(res.body)).toEqual(['reauthenticatedAt']);
      expect(new Date(res.body.reauthenticatedAt).toISOString()).toBe(res.body.reauthenticatedAt);
      const after = (await sessionRow(t, s.sessionId))!.authenticated_at as Date;
      expect(after.getTime()).toBeGreaterThan(before.getTime());
      expect(after.toISOString()).toBe(res.body.reauthenticatedAt);
    });

    it('a wrong password is 401 auth.invalid_credentials and the session keeps working', async () => {
      const { login: name } = await createUser(t);
      const s = keep(await loginMobile(t, name));
      expectError(
        await request(t.url)
          .post('/api/v1/auth/reauth')
          .set(bearer(s.accessToken))
          .send({ password: 'wrong password!' }),
        401,
        'auth.invalid_credentials',
      );
      await me(s.accessToken).expect(200);
    });
  });

  describe('authentication is required everywhere but the public routes', () => {
    // Always three members: with fewer, jest.each would pass its `done` callback as the body.
    const routes: Array<[string, string, object | null]> = [
      ['post', '/api/v1/auth/logout', null],
      ['post', '/api/v1/auth/reauth', { password: TEST_PASSWORD }],
      ['get', '/api/v1/me', null],
      ['post', '/api/v1/me/password', { currentPassword: TEST_PASSWORD, newPassword: 'whatever passphrase' }],
      ['get', '/api/v1/me/sessions', null],
      ['delete', `/api/v1/me/sessions/${NOBODY}`, null],
      ['delete', '/api/v1/me/sessions/malformed', null],
      ['get', '/api/v1/me/identities', null],
      ['delete', `/api/v1/me/identities/${NOBODY}`, null],
      ['post', '/api/v1/admin/users', { login: 'sneaky', displayName: 'Sneaky' }],
      ['get', `/api/v1/admin/users/${NOBODY}`, null],
      ['patch', `/api/v1/admin/users/${NOBODY}`, { status: 'disabled' }],
    ];
    const call = (method: string, path: string, body: object | null) => {
      const agent = request(t.url);
      const req =
        method === 'get'
          ? agent.get(path)
          : method === 'post'
            ? agent.post(path)
            : method === 'patch'
              ? agent.patch(path)
              : agent.delete(path);
      return body ? req.send(body) : req;
    };

    it.each(routes)('%s %s without a token is 401 auth.unauthenticated', async (method, path, body) => {
      expectError(await call(method, path, body), 401, 'auth.unauthenticated');
    });

    it.each(routes)('%s %s with a malformed bearer token is 401 auth.unauthenticated', async (method, path, body) => {
      expectError(await call(method, path, body).set('Authorization', 'Bearer not.a.jwt'), 401, 'auth.unauthenticated');
    });

    it('a refresh token is not an access token', async () => {
      const { login: name } = await createUser(t);
      const s = keep(await loginMobile(t, name));
      expectError(await me(s.refreshToken), 401, 'auth.unauthenticated');
    });

    it('login, refresh, JWKS, OpenID configuration, health and metrics answer without a token', async () => {
      const { login: name } = await createUser(t);
      const s = keep(await loginMobile(t, name));
      await request(t.url)
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: s.refreshToken })
        .expect(200)
        .then((r) => keep(r.body));
      await request(t.url).get('/.well-known/jwks.json').expect(200);
      await request(t.url).get('/.well-known/openid-configuration').expect(200);
      await request(t.url).get('/health/live').expect(200);
      await request(t.url).get('/metrics').expect(200);
    });
  });

  describe('audit events', () => {
    it('a sign-out writes auth.logout for the session', async () => {
      const { user, login: name } = await createUser(t);
      const s = keep(await loginMobile(t, name));
      await request(t.url).post('/api/v1/auth/logout').set(bearer(s.accessToken)).expect(204);
      expect(await auditRows(t, `type = 'auth.logout' AND session_id = $1`, [s.sessionId])).toEqual([
        expect.objectContaining({ user_id: user.id, actor_id: user.id }),
      ]);
    });

    // Last: every password and token this suite used.
    it('no audit row holds a password or a token, in any column', async () => {
      await secrets.expectNoneIn(t);
    });
  });
});
