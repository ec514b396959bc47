import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { bearer, createUser, loginWeb, TEST_PASSWORD } from '../support/accounts.js';
import { expectError, refreshSetCookie } from '../support/http.js';
import { confirmedQr, signInPhone, status } from '../support/qr.js';
import { testConfig } from '../support/test-config.js';

const OWN = 'http://localhost:3000';
const FOREIGN = 'https://evil.example';

/**
 * Login CSRF (security review, finding 2): a page on another site must not be
 * able to plant its own web session in a visitor's browser. Every route that
 * sets or uses the refresh cookie refuses a foreign `Origin`.
 */
describe('routes of the refresh cookie refuse other sites', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ config: testConfig({ CORS_ORIGINS: 'https://app.example.com' }) });
  });

  afterAll(async () => {
    await t.close();
  });

  it('refuses a web sign-in from a foreign Origin with 403 auth.forbidden and sets no cookie', async () => {
    const { login } = await createUser(t);
    const res = await request(t.url)
      .post('/api/v1/auth/login')
      .set('Origin', FOREIGN)
      .send({ login, password: TEST_PASSWORD });
    expectError(res, 403, 'auth.forbidden');
    expect(refreshSetCookie(res)).toBeUndefined();
  });

  it('accepts a web sign-in from the public URL, a CORS origin, or without Origin (a non-browser client)', async () => {
    const { login } = await createUser(t);
    for (const origin of [OWN, 'https://app.example.com', undefined]) {
      const req = request(t.url).post('/api/v1/auth/login');
      if (origin) req.set('Origin', origin);
      const res = await req.send({ login, password: TEST_PASSWORD }).expect(200);
      expect(refreshSetCookie(res)).toBeDefined();
    }
  });

  it('lets a phone sign in from anywhere: a mobile session sets no cookie', async () => {
    const { login } = await createUser(t);
    const res = await request(t.url)
      .post('/api/v1/auth/login')
      .set('Origin', FOREIGN)
      .send({ login, password: TEST_PASSWORD, device: { id: 'phone-origin-1', name: 'P', platform: 'android' } })
      .expect(200);
    expect(refreshSetCookie(res)).toBeUndefined();
  });

  it('refuses a QR exchange from a foreign Origin and leaves the login confirmed for its own page', async () => {
    const { login } = await createUser(t);
    const phone = await signInPhone(t, login);
    const qr = await confirmedQr(t, phone);
    const refused = await request(t.url)
      .post(`/api/v1/qr-sessions/${qr.id}/exchange`)
      .set('X-Poll-Token', qr.pollToken)
      .set('Origin', FOREIGN)
      .send({});
    expectError(refused, 403, 'auth.forbidden');
    expect(refreshSetCookie(refused)).toBeUndefined();
    expect((await status(t, qr.id, qr.pollToken).expect(200)).body.status).toBe('confirmed');
    const ok = await request(t.url)
      .post(`/api/v1/qr-sessions/${qr.id}/exchange`)
      .set('X-Poll-Token', qr.pollToken)
      .set('Origin', OWN)
      .send({})
      .expect(200);
    expect(refreshSetCookie(ok)).toBeDefined();
  });

  it('refuses a cookie refresh or a sign-out from a foreign Origin', async () => {
    const { login } = await createUser(t);
    const web = await loginWeb(t, login);
    expectError(
      await request(t.url).post('/api/v1/auth/refresh').set('Cookie', web.cookie).set('Origin', FOREIGN).send({}),
      403,
      'auth.forbidden',
    );
    expectError(
      await request(t.url).post('/api/v1/auth/logout').set(bearer(web.accessToken)).set('Origin', FOREIGN),
      403,
      'auth.forbidden',
    );
    await request(t.url).get('/api/v1/me').set(bearer(web.accessToken)).expect(200); // still signed in
    await request(t.url).post('/api/v1/auth/logout').set(bearer(web.accessToken)).set('Origin', OWN).expect(204);
  });
});
