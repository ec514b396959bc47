import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import request from 'supertest';
import { UsersService } from '../../src/users/users.service.js';
import {
  auditRows,
  auditTexts,
  cookiePair,
  cookieToken,
  db,
  expectError,
  insertIdentity,
  median,
  NO_LOGIN_LIMITS,
  p256PrivateJwk,
  p256PublicJwk,
  refreshSetCookie,
  sessionRow,
} from '../support/accounts-more.js';
import { bearer, createUser, loginMobile, loginWeb, TEST_PASSWORD } from '../support/accounts.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { testConfig } from '../support/test-config.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const ORIGIN = 'http://localhost:3000'; // testConfig's default PUBLIC_URL origin
const NOBODY = '00000000-0000-4000-8000-000000000000';

describe('accounts: password sign-in, tokens and /me (embedded)', () => {
  let t: TestApp;
  /** Every password and token this suite handled: none may end up in an audit row. */
  const secrets = new Set<string>([TEST_PASSWORD]);
  const keep = <T extends { accessToken?: string; refreshToken?: string; cookie?: string }>(x: T): T => {
    for (const v of [x.accessToken, x.refreshToken, x.cookie && cookieToken(x.cookie)]) if (v) secrets.add(v);
    return x;
  };

  beforeAll(async () => {
    // Limits of 1 that RATE_LIMITS=off must switch off (proved below): this suite signs in many times.
    t = await createTestApp({
      config: testConfig({
        RATE_LIMITS: 'off',
        LOGIN_LIMIT_PER_IP: '1',
        LOGIN_LIMIT_PER_ACCOUNT: '1',
        DEMO_USER: 'off',
      }),
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  const me = (token: string) => request(t.url).get('/api/v1/me').set(bearer(token));
  const login = (body: object) => request(t.url).post('/api/v1/auth/login').send(body);

  describe('POST /auth/login', () => {
    it('a mobile sign-in (with device) answers every token in the body and sets no cookie', async () => {
      const { user, login: name } = await createUser(t);
      const res = await login({
        login: name,
        password: TEST_PASSWORD,
        device: { id: 'phone-login-1', name: 'Pixel', platform: 'android' },
      }).expect(200);
      keep(res.body);
      expect(res.body).toEqual({
        accessToken: expect.stringMatching(JWT),
        expiresIn: expect.any(Number),
        refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{20,}$/),
        sessionId: expect.stringMatching(UUID),
        user: expect.objectContaining({ id: user.id, login: name, displayName: user.displayName }),
      });
      expect(res.body.expiresIn).toBeGreaterThan(0);
      expect(res.body.expiresIn).toBeLessThanOrEqual(900);
      expect(JSON.stringify(res.body)).not.toMatch(/password|argon2/i);
      expect(res.headers['set-cookie']).toBeUndefined();
      await me(res.body.accessToken).expect(200);
      const row = await sessionRow(t, res.body.sessionId);
      expect(row).toMatchObject({
        kind: 'mobile',
        device_id: 'phone-login-1',
        device_name: 'Pixel',
        device_platform: 'android',
        user_id: user.id,
      });
    });

    it('a web sign-in (no device) keeps the refresh token out of the body, in an HttpOnly SameSite=Lax cookie scoped to /api/v1/auth, not Secure on http', async () => {
      const { login: name } = await createUser(t);
      const res = await login({ login: name, password: TEST_PASSWORD }).expect(200);
      expect(res.body).not.toHaveProperty('refreshToken');
      expect(res.body).toEqual({
        accessToken: expect.stringMatching(JWT),
        expiresIn: expect.any(Number),
        sessionId: expect.stringMatching(UUID),
        user: expect.objectContaining({ login: name }),
      });
      const cookie = refreshSetCookie(res);
      expect(cookie).toBeDefined();
      keep({ accessToken: res.body.accessToken, cookie: cookie! });
      expect(cookieToken(cookie!)).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      const attributes = cookie!.split(';').map((a) => a.trim().toLowerCase());
      expect(attributes).toContain('path=/api/v1/auth');
      expect(attributes).toContain('httponly');
      expect(attributes).toContain('samesite=lax');
      expect(attributes).not.toContain('secure');
      expect(JSON.stringify(res.body)).not.toContain(cookieToken(cookie!));
      const row = await sessionRow(t, res.body.sessionId);
      expect(row).toMatchObject({ kind: 'web', created_via: 'password', device_id: null });
      await me(res.body.accessToken).expect(200);
    });

    it('compares the login case-insensitively', async () => {
      const { login: name } = await createUser(t, { login: `MixedCase${Date.now().toString(36)}` });
      expect(name).not.toBe(name.toLowerCase());
      const swapped = [...name].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('');
      for (const variant of [name, name.toUpperCase(), name.toLowerCase(), swapped]) {
        const res = await login({ login: variant, password: TEST_PASSWORD }).expect(200);
        keep(res.body);
        expect(res.body.user.login).toBe(name.toLowerCase());
      }
    });

    it('answers an unknown login and a wrong password identically (status and body but the request id)', async () => {
      const { login: name } = await createUser(t);
      const unknown = await login({ login: `nobody-${Date.now()}`, password: TEST_PASSWORD });
      const wrong = await login({ login: name, password: 'not the password at all' });
      expectError(unknown, 401, 'auth.invalid_credentials');
      expectError(wrong, 401, 'auth.invalid_credentials');
      const strip = ({ requestId: _r, ...rest }: Record<string, unknown>) => rest;
      expect(strip(wrong.body)).toEqual(strip(unknown.body));
      expect(wrong.headers['set-cookie']).toEqual(unknown.headers['set-cookie']);
    });

    it('takes the same time for an unknown login as for a wrong password (medians of 20 within 15 %)', async () => {
      const { login: name } = await createUser(t);
      const time = async (body: object) => {
        const started = performance.now();
        await login(body).expect(401);
        return performance.now() - started;
      };
      const unknownBody = { login: `ghost-${Date.now()}`, password: 'some wrong password' };
      const wrongBody = { login: name, password: 'some wrong password' };
      for (let i = 0; i < 3; i++) await Promise.all([time(unknownBody), time(wrongBody)]).catch(() => undefined); // warm-up
      const unknown: number[] = [];
      const wrong: number[] = [];
      for (let i = 0; i < 20; i++) {
        // Alternate the order so drift and caching hit both alike.
        if (i % 2) {
          unknown.push(await time(unknownBody));
          wrong.push(await time(wrongBody));
        } else {
          wrong.push(await time(wrongBody));
          unknown.push(await time(unknownBody));
        }
      }
      const [a, b] = [median(unknown), median(wrong)];
      expect(Math.max(a, b) / Math.min(a, b)).toBeLessThanOrEqual(1.15);
    }, 30_000);

    it('a disabled user: the right password is 403 auth.account_disabled, a wrong one stays 401 auth.invalid_credentials', async () => {
      const { user, login: name } = await createUser(t);
      await t.app.get(UsersService).setStatus(user.id, 'disabled');
      expectError(await login({ login: name, password: TEST_PASSWORD }), 403, 'auth.account_disabled');
      expectError(
        await login({
          login: name,
          password: TEST_PASSWORD,
          device: { id: 'phone-disabled', name: 'P', platform: 'ios' },
        }),
        403,
        'auth.account_disabled',
      );
      expectError(await login({ login: name, password: 'wrong password here' }), 401, 'auth.invalid_credentials');
      const sessions = await db(t).query('SELECT id FROM sessions WHERE user_id = $1', [user.id]);
      expect(sessions).toHaveLength(0);
    });

    it('a user without a password cannot sign in with any password', async () => {
      const { login: name } = await createUser(t, { password: null });
      for (const password of [TEST_PASSWORD, 'x', name, '']) {
        const res = await login({ login: name, password });
        expect(res.status).toBe(password === '' ? 400 : 401);
      }
    });

    it('refuses unknown body fields, unknown device fields and a missing password with 400 validation.failed', async () => {
      const { login: name } = await createUser(t);
      const extra = await login({ login: name, password: TEST_PASSWORD, remember: true });
      expectError(extra, 400, 'validation.failed');
      expect(extra.body.details).toEqual(
        expect.arrayContaining([expect.objectContaining({ path: expect.any(String) })]),
      );
      expectError(
        await login({
          login: name,
          password: TEST_PASSWORD,
          device: { id: 'phone-extra-1', name: 'P', platform: 'ios', color: 'red' },
        }),
        400,
        'validation.failed',
      );
      expectError(await login({ login: name }), 400, 'validation.failed');
      expectError(
        await login({ login: name, password: TEST_PASSWORD, device: { id: 'x', name: 'P', platform: 'ios' } }),
        400,
        'validation.failed',
      );
    });
  });

  describe('device.publicKey (EC P-256 public JWK)', () => {
    let name: string;
    beforeAll(async () => {
      ({ login: name } = await createUser(t));
    });
    const withKey = (publicKey: unknown, id = `phone-key-${Math.random().toString(36).slice(2)}`) =>
      login({ login: name, password: TEST_PASSWORD, device: { id, name: 'Key phone', platform: 'ios', publicKey } });
    const storedKey = async (sessionId: string) => (await sessionRow(t, sessionId))!.device_public_key;

    it('accepts a node-exported public key and stores it on the session', async () => {
      const jwk = p256PublicJwk();
      const res = await withKey(jwk).expect(200);
      keep(res.body);
      expect(await storedKey(res.body.sessionId)).toEqual({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y });
    });

    it('accepts a WebCrypto-style export (ext, key_ops) and stores only kty, crv, x, y', async () => {
      const jwk = { ...p256PublicJwk(), ext: true, key_ops: ['verify'] };
      const res = await withKey(jwk).expect(200);
      keep(res.body);
      expect(await storedKey(res.body.sessionId)).toEqual({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y });
    });

    it('a session signed in without a key stores none', async () => {
      const res = await login({
        login: name,
        password: TEST_PASSWORD,
        device: { id: 'phone-nokey-1', name: 'P', platform: 'ios' },
      }).expect(200);
      keep(res.body);
      expect(await storedKey(res.body.sessionId)).toBeNull();
    });

    it('refuses a private key (with "d")', async () => {
      const res = await withKey(p256PrivateJwk());
      expectError(res, 400, 'validation.failed');
      expect(res.body.details.map((d: { path: string }) => d.path).join(' ')).toMatch(/device\.publicKey/);
    });

    it('refuses a point off the curve', async () => {
      const jwk = p256PublicJwk();
      const y = Buffer.from(jwk.y, 'base64url');
      y[31]! ^= 1;
      expectError(await withKey({ ...jwk, y: y.toString('base64url') }), 400, 'validation.failed');
    });

    it('refuses another curve, another key type, and garbage coordinates', async () => {
      const jwk = p256PublicJwk();
      expectError(await withKey({ ...jwk, crv: 'P-384' }), 400, 'validation.failed');
      expectError(await withKey({ ...jwk, crv: 'secp256k1' }), 400, 'validation.failed');
      expectError(await withKey({ kty: 'RSA', n: 'abc', e: 'AQAB' }), 400, 'validation.failed');
      expectError(await withKey({ ...jwk, x: 'A'.repeat(43), y: 'A'.repeat(43) }), 400, 'validation.failed');
      expectError(await withKey('not a key'), 400, 'validation.failed');
    });
  });

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

  describe('POST /me/password', () => {
    const NEW_PASSWORD = 'a brand new passphrase 42';
    const change = (token: string, body: object) =>
      request(t.url).post('/api/v1/me/password').set(bearer(token)).send(body);

    it('a wrong current password is 400 validation.failed with detail path currentPassword, and nothing changes', async () => {
      const { login: name } = await createUser(t);
      const s = keep(await loginMobile(t, name));
      const res = await change(s.accessToken, { currentPassword: 'not my password', newPassword: NEW_PASSWORD });
      expectError(res, 400, 'validation.failed');
      expect(res.body.details.map((d: { path: string }) => d.path)).toEqual(['currentPassword']);
      keep(await loginMobile(t, name)); // old password still works
    });

    it('a weak new password (under 10 characters, or the login itself) is 400 with detail path newPassword', async () => {
      const { login: name } = await createUser(t, { login: `weakpw${Date.now().toString(36)}` });
      const s = keep(await loginMobile(t, name));
      for (const newPassword of ['short', '123456789', name, name.toUpperCase()]) {
        const res = await change(s.accessToken, { currentPassword: TEST_PASSWORD, newPassword });
        expectError(res, 400, 'validation.failed');
        expect(res.body.details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(['newPassword']));
        expect(res.body.details.every((d: { path: string }) => d.path === 'newPassword')).toBe(true);
      }
      keep(await loginMobile(t, name)); // unchanged
    });

    it('refuses unknown fields', async () => {
      const { login: name } = await createUser(t);
      const s = keep(await loginMobile(t, name));
      expectError(
        await change(s.accessToken, { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD, force: true }),
        400,
        'validation.failed',
      );
    });

    it('success: 200, every other session is revoked, this one keeps working, and only the new password signs in', async () => {
      const { login: name } = await createUser(t);
      const current = keep(await loginMobile(t, name));
      const otherPhone = keep(await loginMobile(t, name));
      const otherBrowser = keep(await loginWeb(t, name));
      secrets.add(NEW_PASSWORD);
      const changed = await change(current.accessToken, {
        currentPassword: TEST_PASSWORD,
        newPassword: NEW_PASSWORD,
      }).expect(200);
      expect(changed.body).toEqual({ revokedSessions: 2, identitiesLinkedSinceLastPassword: [] });

      expectError(await me(otherPhone.accessToken), 401, 'auth.unauthenticated');
      expectError(await me(otherBrowser.accessToken), 401, 'auth.unauthenticated');
      expect(
        (await request(t.url).post('/api/v1/auth/refresh').send({ refreshToken: otherPhone.refreshToken })).status,
      ).toBe(401);
      expect(
        (await request(t.url).post('/api/v1/auth/refresh').set('Origin', ORIGIN).set('Cookie', otherBrowser.cookie))
          .status,
      ).toBe(401);

      await me(current.accessToken).expect(200);
      const rotated = await request(t.url)
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: current.refreshToken })
        .expect(200);
      keep(rotated.body);
      await me(rotated.body.accessToken).expect(200);

      expectError(await login({ login: name, password: TEST_PASSWORD }), 401, 'auth.invalid_credentials');
      keep(await loginWeb(t, name, NEW_PASSWORD));
    });
  });

  describe('GET /me, /me/sessions, DELETE /me/sessions/{id}', () => {
    it('GET /me answers the signed-in user (user shape, no password hash)', async () => {
      const { user, login: name } = await createUser(t, { displayName: 'Han Meimei' });
      const s = keep(await loginMobile(t, name));
      const res = await me(s.accessToken).expect(200);
      expect(res.body).toEqual({
        id: user.id,
        login: name,
        displayName: 'Han Meimei',
        avatarUrl: null,
        status: 'active',
        roles: ['user'],
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
    });

    it('GET /me/sessions lists the active sessions, with current: true only on the caller’s own', async () => {
      const { user, login: name } = await createUser(t);
      const phone = keep(
        await loginMobile(t, name, TEST_PASSWORD, { id: 'phone-list-1', name: 'Li’s phone', platform: 'ios' }),
      );
      const browser = keep(await loginWeb(t, name));
      const gone = keep(await loginMobile(t, name));
      await request(t.url).post('/api/v1/auth/logout').set(bearer(gone.accessToken)).expect(204);

      const res = await request(t.url).get('/api/v1/me/sessions').set(bearer(phone.accessToken)).expect(200);
      const ids = res.body.items.map((s: { id: string }) => s.id);
      expect(ids.sort()).toEqual([phone.sessionId, browser.sessionId].sort());
      const mine = res.body.items.find((s: { id: string }) => s.id === phone.sessionId);
      const theirs = res.body.items.find((s: { id: string }) => s.id === browser.sessionId);
      expect(mine).toMatchObject({
        userId: user.id,
        kind: 'mobile',
        createdVia: 'password',
        current: true,
        revokedAt: null,
        device: { id: 'phone-list-1', name: 'Li’s phone', platform: 'ios' },
      });
      expect(theirs).toMatchObject({ kind: 'web', device: null, current: false });

      const fromBrowser = await request(t.url).get('/api/v1/me/sessions').set(bearer(browser.accessToken)).expect(200);
      expect(
        fromBrowser.body.items.filter((s: { current: boolean }) => s.current).map((s: { id: string }) => s.id),
      ).toEqual([browser.sessionId]);
    });

    it('DELETE an own session: 204, its access token is refused on the next request, its refresh too, and it leaves the list', async () => {
      const { login: name } = await createUser(t);
      const keepMe = keep(await loginMobile(t, name));
      const victim = keep(await loginMobile(t, name));
      await me(victim.accessToken).expect(200);
      await request(t.url)
        .delete(`/api/v1/me/sessions/${victim.sessionId}`)
        .set(bearer(keepMe.accessToken))
        .expect(204);
      expectError(await me(victim.accessToken), 401, 'auth.unauthenticated');
      expect(
        (await request(t.url).post('/api/v1/auth/refresh').send({ refreshToken: victim.refreshToken })).status,
      ).toBe(401);
      const list = await request(t.url).get('/api/v1/me/sessions').set(bearer(keepMe.accessToken)).expect(200);
      expect(list.body.items.map((s: { id: string }) => s.id)).toEqual([keepMe.sessionId]);
      // Already revoked: no longer an active session of mine.
      expectError(
        await request(t.url).delete(`/api/v1/me/sessions/${victim.sessionId}`).set(bearer(keepMe.accessToken)),
        404,
        'not_found',
      );
      await me(keepMe.accessToken).expect(200);
    });

    it('DELETE another user’s session is 404 not_found and leaves it working', async () => {
      const { login: a } = await createUser(t);
      const { login: b } = await createUser(t);
      const mine = keep(await loginMobile(t, a));
      const theirs = keep(await loginMobile(t, b));
      expectError(
        await request(t.url).delete(`/api/v1/me/sessions/${theirs.sessionId}`).set(bearer(mine.accessToken)),
        404,
        'not_found',
      );
      await me(theirs.accessToken).expect(200);
      expect((await sessionRow(t, theirs.sessionId))!.revoked_at).toBeNull();
    });

    it('DELETE with a malformed or unknown id is 404 not_found', async () => {
      const { login: name } = await createUser(t);
      const s = keep(await loginMobile(t, name));
      for (const id of ['not-a-uuid', '123', `${NOBODY}x`, NOBODY]) {
        expectError(
          await request(t.url).delete(`/api/v1/me/sessions/${id}`).set(bearer(s.accessToken)),
          404,
          'not_found',
        );
      }
    });
  });

  describe('/me/identities', () => {
    it('GET lists only my identities', async () => {
      const { user, login: name } = await createUser(t);
      const { user: other } = await createUser(t);
      const first = await insertIdentity(t, user.id, 'wechat', `wx-${user.id}`);
      const second = await insertIdentity(t, user.id, 'alipay', `ali-${user.id}`);
      await insertIdentity(t, other.id, 'wechat', `wx-${other.id}`);
      const s = keep(await loginMobile(t, name));
      const res = await request(t.url).get('/api/v1/me/identities').set(bearer(s.accessToken)).expect(200);
      expect(res.body.items.map((i: { id: string }) => i.id).sort()).toEqual([first, second].sort());
      expect(res.body.items.find((i: { id: string }) => i.id === first)).toMatchObject({
        provider: 'wechat',
        subject: `wx-${user.id}`,
        subjectKind: 'unionid',
        linkedAt: expect.any(String),
      });
    });

    it('DELETE with a password left: 204 and the identity is gone', async () => {
      const { user, login: name } = await createUser(t);
      const id = await insertIdentity(t, user.id);
      const s = keep(await loginMobile(t, name));
      await request(t.url).delete(`/api/v1/me/identities/${id}`).set(bearer(s.accessToken)).expect(204);
      expect(await db(t).query('SELECT id FROM identities WHERE id = $1', [id])).toHaveLength(0);
      expectError(
        await request(t.url).delete(`/api/v1/me/identities/${id}`).set(bearer(s.accessToken)),
        404,
        'not_found',
      );
    });

    it('DELETE of the last way to sign in (no password, one identity) is 409 identity.last_method; with two, the first goes', async () => {
      const { user, login: name } = await createUser(t);
      const s = keep(await loginMobile(t, name));
      await db(t).query('UPDATE users SET password_hash = NULL WHERE id = $1', [user.id]);
      const a = await insertIdentity(t, user.id, 'wechat');
      const b = await insertIdentity(t, user.id, 'dingtalk');
      await request(t.url).delete(`/api/v1/me/identities/${a}`).set(bearer(s.accessToken)).expect(204);
      expectError(
        await request(t.url).delete(`/api/v1/me/identities/${b}`).set(bearer(s.accessToken)),
        409,
        'identity.last_method',
      );
      expect(await db(t).query('SELECT id FROM identities WHERE id = $1', [b])).toHaveLength(1);
    });

    it('DELETE another user’s identity, or a malformed id, is 404 not_found', async () => {
      const { login: name } = await createUser(t);
      const { user: other } = await createUser(t);
      const theirs = await insertIdentity(t, other.id);
      const s = keep(await loginMobile(t, name));
      expectError(
        await request(t.url).delete(`/api/v1/me/identities/${theirs}`).set(bearer(s.accessToken)),
        404,
        'not_found',
      );
      expect(await db(t).query('SELECT id FROM identities WHERE id = $1', [theirs])).toHaveLength(1);
      expectError(
        await request(t.url).delete('/api/v1/me/identities/nope').set(bearer(s.accessToken)),
        404,
        'not_found',
      );
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

  describe('RATE_LIMITS=off', () => {
    it('never answers 429, though both login limits here are 1', async () => {
      const { login: name } = await createUser(t);
      for (let i = 0; i < 4; i++)
        expectError(await login({ login: name, password: 'wrong password!' }), 401, 'auth.invalid_credentials');
      keep(await loginMobile(t, name));
      keep(await loginWeb(t, name));
    });
  });

  describe('audit events', () => {
    it('a successful sign-in writes auth.login_succeeded with user, session and method', async () => {
      const { user, login: name } = await createUser(t);
      const s = keep(await loginMobile(t, name));
      const rows = await auditRows(t, `type = 'auth.login_succeeded' AND session_id = $1`, [s.sessionId]);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        user_id: user.id,
        detail: expect.objectContaining({ method: 'password', kind: 'mobile' }),
      });
      expect(rows[0]!.ip).toMatch(/127\.0\.0\.1/);
    });

    it('a failed sign-in writes auth.login_failed (unknown login, wrong password, disabled account)', async () => {
      const { user, login: name } = await createUser(t);
      const before = (await auditRows(t, `type = 'auth.login_failed'`)).length;
      await login({ login: name, password: 'wrong password!' }).expect(401);
      await login({ login: `unknown-${Date.now()}`, password: 'wrong password!' }).expect(401);
      await t.app.get(UsersService).setStatus(user.id, 'disabled');
      await login({ login: name, password: TEST_PASSWORD }).expect(403);
      const rows = await auditRows(t, `type = 'auth.login_failed'`);
      expect(rows.length - before).toBe(3);
      expect(rows.at(-1)).toMatchObject({ user_id: user.id, detail: expect.objectContaining({ reason: 'disabled' }) });
    });

    it('a sign-out writes auth.logout for the session', async () => {
      const { user, login: name } = await createUser(t);
      const s = keep(await loginMobile(t, name));
      await request(t.url).post('/api/v1/auth/logout').set(bearer(s.accessToken)).expect(204);
      expect(await auditRows(t, `type = 'auth.logout' AND session_id = $1`, [s.sessionId])).toEqual([
        expect.objectContaining({ user_id: user.id, actor_id: user.id }),
      ]);
    });

    it('revoking one of my sessions (DELETE /me/sessions/{id}) writes a session.revoked event', async () => {
      const { user, login: name } = await createUser(t);
      const a = keep(await loginMobile(t, name));
      const b = keep(await loginMobile(t, name));
      await request(t.url).delete(`/api/v1/me/sessions/${b.sessionId}`).set(bearer(a.accessToken)).expect(204);
      expect(await auditRows(t, `type = 'session.revoked' AND session_id = $1`, [b.sessionId])).toEqual([
        expect.objectContaining({ user_id: user.id, actor_id: user.id }),
      ]);
    });

    it('a password change writes auth.password_changed with the number of sessions it revoked', async () => {
      const { user, login: name } = await createUser(t);
      const a = keep(await loginMobile(t, name));
      keep(await loginMobile(t, name));
      keep(await loginWeb(t, name));
      secrets.add('another new passphrase');
      await request(t.url)
        .post('/api/v1/me/password')
        .set(bearer(a.accessToken))
        .send({ currentPassword: TEST_PASSWORD, newPassword: 'another new passphrase' })
        .expect(200);
      const rows = await auditRows(t, `type = 'auth.password_changed' AND user_id = $1`, [user.id]);
      expect(rows).toEqual([expect.objectContaining({ session_id: a.sessionId, detail: { revokedSessions: 2 } })]);
    });

    // Last: every password and token this suite used.
    it('no audit row holds a password or a token, in any column', async () => {
      const texts = await auditTexts(t);
      expect(texts.length).toBeGreaterThan(20);
      secrets.add('wrong password!');
      secrets.add('not the password at all');
      secrets.add('some wrong password');
      for (const secret of secrets) {
        const hit = texts.find((text) => text.includes(secret));
        expect({ secret: secret.slice(0, 12), hit }).toEqual({ secret: secret.slice(0, 12), hit: undefined });
      }
      expect(texts.join('\n')).not.toMatch(/argon2|eyJ[A-Za-z0-9_-]{10,}\./);
    });
  });
});

describe('a web sign-in behind PUBLIC_URL=https://…', () => {
  let t: TestApp;
  const PUBLIC = 'https://login.example.com';

  beforeAll(async () => {
    t = await createTestApp({ config: testConfig({ PUBLIC_URL: PUBLIC, DEMO_USER: 'off', ...NO_LOGIN_LIMITS }) });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('sets the refresh cookie Secure (and HttpOnly, SameSite=Lax, Path=/api/v1/auth), at sign-in and at refresh', async () => {
    const { login: name } = await createUser(t);
    const w = await loginWeb(t, name);
    const attributes = w.setCookie.split(';').map((a) => a.trim().toLowerCase());
    expect(attributes).toEqual(expect.arrayContaining(['secure', 'httponly', 'samesite=lax', 'path=/api/v1/auth']));
    const refreshed = await request(t.url)
      .post('/api/v1/auth/refresh')
      .set('Origin', PUBLIC)
      .set('Cookie', w.cookie)
      .expect(200);
    const next = refreshSetCookie(refreshed)!;
    expect(next.split(';').map((a) => a.trim().toLowerCase())).toEqual(
      expect.arrayContaining(['secure', 'httponly', 'samesite=lax', 'path=/api/v1/auth']),
    );
    expect(cookiePair(next)).not.toBe(w.cookie);
    // The http origin of the same host is another origin.
    expectError(
      await request(t.url)
        .post('/api/v1/auth/refresh')
        .set('Origin', 'http://login.example.com')
        .set('Cookie', cookiePair(next)),
      403,
      'auth.forbidden',
    );
  });
});

describe('login rate limits (in-process store)', () => {
  describe('LOGIN_LIMIT_PER_IP=3', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ config: testConfig({ LOGIN_LIMIT_PER_IP: '3', DEMO_USER: 'off' }) });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('the 4th attempt from one IP, on any login, is 429 rate_limited with Retry-After', async () => {
      const users = await Promise.all([1, 2, 3, 4].map(() => createUser(t)));
      await loginMobile(t, users[0]!.login);
      await request(t.url)
        .post('/api/v1/auth/login')
        .send({ login: users[1]!.login, password: 'guessing wrong' })
        .expect(401);
      await loginWeb(t, users[2]!.login);
      const limited = await request(t.url)
        .post('/api/v1/auth/login')
        .send({ login: users[3]!.login, password: TEST_PASSWORD });
      expectError(limited, 429, 'rate_limited');
      const retryAfter = Number(limited.headers['retry-after']);
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
    });
  });
});
