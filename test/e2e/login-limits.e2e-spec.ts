import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import request from 'supertest';
import { bearer, createUser, loginMobile, TEST_PASSWORD } from '../support/accounts.js';
import { expectError } from '../support/http.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { testConfig } from '../support/test-config.js';

/**
 * Password guessing (security review, finding 5): limited per client IP, per
 * account and IP, and per account from everywhere with a ceiling that slows
 * rather than locks; strangers' guesses never keep out the owner's known
 * device, nor another session's reauth. Client IPs come from X-Forwarded-For
 * (TRUST_PROXY=loopback), so one test can be many guessers.
 */
describe('login guessing limits', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      config: testConfig({
        TRUST_PROXY: 'loopback',
        LOGIN_LIMIT_PER_IP: '1000',
        LOGIN_LIMIT_PER_ACCOUNT_IP: '3',
        LOGIN_LIMIT_PER_ACCOUNT: '5',
        DEMO_USER: 'off',
      }),
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  let ipCounter = 0;
  const nextIp = () => `203.0.113.${++ipCounter}`;
  const attempt = (
    login: string,
    password: string,
    ip: string,
    extra: { device?: object; signature?: string } = {},
  ) => {
    const req = request(t.url).post('/api/v1/auth/login').set('X-Forwarded-For', ip);
    if (extra.signature) req.set('X-Device-Signature', extra.signature);
    return req.send({ login, password, ...(extra.device ? { device: extra.device } : {}) });
  };

  it('one login from one IP: the 4th attempt is 429 rate_limited even with the right password; other IPs and other logins are not affected', async () => {
    const { login } = await createUser(t);
    const { login: other } = await createUser(t);
    const ip = nextIp();
    for (let i = 0; i < 3; i++)
      expectError(await attempt(login, 'guessing wrong', ip), 401, 'auth.invalid_credentials');
    const limited = await attempt(login, TEST_PASSWORD, ip);
    expectError(limited, 429, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(15 * 60);
    await attempt(login, TEST_PASSWORD, nextIp()).expect(200);
    await attempt(other, TEST_PASSWORD, ip).expect(200);
  });

  it('guesses from many IPs slow the account down (Retry-After at most a minute) but never lock it for long', async () => {
    const { login } = await createUser(t, { roles: ['admin'] });
    for (let i = 0; i < 5; i++)
      expectError(await attempt(login, `guess ${i}`, nextIp()), 401, 'auth.invalid_credentials');
    const slowed = await attempt(login, TEST_PASSWORD, nextIp());
    expectError(slowed, 429, 'rate_limited');
    expect(Number(slowed.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(slowed.headers['retry-after'])).toBeLessThanOrEqual(60);
  });

  it("a known device (its active session's key signing scangate:login:<device id>:<login>) signs in despite strangers' guesses", async () => {
    const { login } = await createUser(t, { login: `Owner${Date.now().toString(36)}` });
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const device = {
      id: `known-${Date.now().toString(36)}`,
      name: 'Owner phone',
      platform: 'android',
      publicKey: publicKey.export({ format: 'jwk' }),
    };
    const ownerIp = nextIp();
    await attempt(login, TEST_PASSWORD, ownerIp, { device }).expect(200);
    for (let i = 0; i < 5; i++) await attempt(login, `stranger ${i}`, nextIp());
    expectError(await attempt(login, TEST_PASSWORD, nextIp()), 429, 'rate_limited');

    const proof = (key: KeyObject, deviceId = device.id) =>
      sign('sha256', Buffer.from(`scangate:login:${deviceId}:${login.toLowerCase()}`), {
        key,
        dsaEncoding: 'ieee-p1363',
      }).toString('base64url');
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expectError(await attempt(login, TEST_PASSWORD, ownerIp, { device }), 429, 'rate_limited');
    expectError(
      await attempt(login, TEST_PASSWORD, ownerIp, { device, signature: proof(stranger) }),
      429,
      'rate_limited',
    );
    expectError(
      await attempt(login, TEST_PASSWORD, ownerIp, {
        device: { ...device, id: 'another-device-id' },
        signature: proof(privateKey, 'another-device-id'),
      }),
      429,
      'rate_limited',
    );
    const res = await attempt(login.toUpperCase(), TEST_PASSWORD, ownerIp, {
      device,
      signature: proof(privateKey),
    }).expect(200);
    expect(res.body.refreshToken).toEqual(expect.any(String));
  });

  it("reauth guesses count per session: a stolen session's guesses leave the owner's other sessions alone", async () => {
    const { login } = await createUser(t);
    const stolen = await loginMobile(t, login, TEST_PASSWORD, { id: `stolen-${Date.now().toString(36)}` });
    const own = await loginMobile(t, login, TEST_PASSWORD, { id: `own-${Date.now().toString(36)}` });
    const reauth = (session: { accessToken: string }, password: string) =>
      request(t.url).post('/api/v1/auth/reauth').set(bearer(session.accessToken)).send({ password });
    for (let i = 0; i < 3; i++) expectError(await reauth(stolen, `guess ${i}`), 401, 'auth.invalid_credentials');
    expectError(await reauth(stolen, TEST_PASSWORD), 429, 'rate_limited');
    await reauth(own, TEST_PASSWORD).expect(200);
    const change = (currentPassword: string) =>
      request(t.url)
        .post('/api/v1/me/password')
        .set(bearer(stolen.accessToken))
        .send({ currentPassword, newPassword: 'a brand new passphrase' });
    expectError(await change('one more guess'), 429, 'rate_limited');
  });
});
