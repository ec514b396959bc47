import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { UsersService } from '../../src/users/users.service.js';
import { bearer, createUser, loginMobile, loginWeb, TEST_PASSWORD } from '../support/accounts.js';
import { createTestApp, suiteApp, type TestApp } from '../support/create-test-app.js';
import { p256PrivateJwk, p256PublicJwk } from '../support/device-keys.js';
import { cookiePair, cookieToken, expectError, refreshSetCookie } from '../support/http.js';
import { KeptSecrets } from '../support/kept-secrets.js';
import { auditRows, db, sessionRow } from '../support/rows.js';
import { NO_LOGIN_LIMITS, testConfig } from '../support/test-config.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** POST /auth/login: password sign-in for phones and browsers, device keys, refusals, limits and their audit trail. */
describe('POST /auth/login: password sign-in', () => {
  // Limits of 1 that RATE_LIMITS=off must switch off (proved below): this suite signs in many times.
  const t = suiteApp({
    config: testConfig({ RATE_LIMITS: 'off', LOGIN_LIMIT_PER_IP: '1', LOGIN_LIMIT_PER_ACCOUNT: '1', DEMO_USER: 'off' }),
  });
  const secrets = new KeptSecrets();
  const keep = secrets.keep;

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

    // Last: every password and token this suite used.
    it('no audit row holds a password or a token, in any column', async () => {
      await secrets.expectNoneIn(t);
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
