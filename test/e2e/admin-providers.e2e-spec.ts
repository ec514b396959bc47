import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import request from 'supertest';
import { AlipaySandbox } from '../../src/sandboxes/alipay/alipay.sandbox.js';
import { DingtalkSandbox } from '../../src/sandboxes/dingtalk/dingtalk.sandbox.js';
import { WechatSandbox } from '../../src/sandboxes/wechat/wechat.sandbox.js';
import { expectError } from '../support/http.js';
import { auditRows, auditTexts } from '../support/rows.js';
import { NO_LOGIN_LIMITS, testConfig } from '../support/test-config.js';
import { adminCast } from '../support/admin.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { oauthTestApp } from '../support/oauth-flow.js';
import { freePort } from '../support/server-process.js';

/**
 * `GET /api/v1/admin/providers` and `POST /api/v1/admin/providers/{id}/check`
 * (issue 8 § Providers): which providers are enabled, their settings with
 * every secret masked, and a live check that sends a made-up code, against
 * the sandboxes, against a local fake of the platforms with configured
 * ("real-looking") credentials, and against a port nobody listens on.
 */

const LIST = '/api/v1/admin/providers';
const check = (id: string) => `/api/v1/admin/providers/${id}/check`;

type Cast = Awaited<ReturnType<typeof adminCast>>;

/** The base64 body of a PEM, without armour or line breaks. */
const pemBody = (pem: string) => pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
const fingerprint = (pem: string) =>
  createHash('sha256')
    .update(createPublicKey(pem).export({ type: 'spki', format: 'der' }))
    .digest('hex');

/** The secret appears nowhere in `text`, not even one of its 16-character pieces (a PEM body, line by line or whole). */
function expectNoSecret(text: string, secret: string): void {
  expect(text).not.toContain(secret);
  const body = secret.includes('-----BEGIN') ? pemBody(secret) : secret;
  for (let i = 0; i + 16 <= body.length; i += 8) expect(text).not.toContain(body.slice(i, i + 16));
}

describe('admin providers API with the sandboxes (development and test configuration)', () => {
  let t: TestApp;
  let publicUrl: string;
  let cast: Cast;
  let secrets: string[];

  beforeAll(async () => {
    ({ t, publicUrl } = await oauthTestApp({ DEMO_USER: 'off', OAUTH_TIMEOUT_MS: '400', ...NO_LOGIN_LIMITS }));
    cast = await adminCast(t);
    secrets = [
      t.app.get(WechatSandbox).app.appSecret,
      t.app.get(DingtalkSandbox).app.clientSecret,
      t.app.get(AlipaySandbox).app.appPrivateKeyPem,
    ];
  });
  afterAll(async () => {
    await t?.close();
  });

  const faults = (provider: 'wechat' | 'dingtalk', body: object) =>
    request(t.url).post(`/sandbox/${provider}/__sim/faults`).send(body).expect(200);

  it('lists every provider, enabled through its sandbox, ids and URLs in clear, each secret as at most its last 4 characters', async () => {
    const res = await request(t.url).get(LIST).set(cast.admin.auth).expect(200);
    const port = new URL(publicUrl).port;
    const wechat = t.app.get(WechatSandbox).app;
    const dingtalk = t.app.get(DingtalkSandbox).app;
    const alipay = t.app.get(AlipaySandbox).app;
    expect(res.body).toEqual({
      items: [
        {
          id: 'wechat',
          enabled: true,
          sandbox: true,
          config: {
            appId: wechat.appId,
            appSecret: `…${wechat.appSecret.slice(-4)}`,
            openBase: `${publicUrl}/sandbox/wechat`,
            apiBase: `http://127.0.0.1:${port}/sandbox/wechat`,
          },
        },
        {
          id: 'alipay',
          enabled: true,
          sandbox: true,
          config: {
            appId: alipay.appId,
            privateKey: `…${pemBody(alipay.appPrivateKeyPem).slice(-4)}`,
            appPublicKeySha256: fingerprint(alipay.appPrivateKeyPem),
            alipayPublicKeySha256: fingerprint(alipay.alipayPublicKeyPem),
            authBase: `${publicUrl}/sandbox/alipay`,
            gateway: `http://127.0.0.1:${port}/sandbox/alipay/gateway.do`,
          },
        },
        {
          id: 'dingtalk',
          enabled: true,
          sandbox: true,
          config: {
            clientId: dingtalk.clientId,
            clientSecret: `…${dingtalk.clientSecret.slice(-4)}`,
            corpId: null,
            loginBase: `${publicUrl}/sandbox/dingtalk`,
            apiBase: `http://127.0.0.1:${port}/sandbox/dingtalk`,
          },
        },
      ],
    });
    for (const secret of secrets) expectNoSecret(res.text, secret);
  });

  it('check: each sandbox refuses the made-up code only, so the credentials are valid (200, ok: true)', async () => {
    const expected = { wechat: '40029', alipay: 'isv.code-invalid', dingtalk: 'invalidParameter.authCode.notFound' };
    for (const [id, providerCode] of Object.entries(expected)) {
      const res = await request(t.url).post(check(id)).set(cast.admin.auth).expect(200);
      expect(res.body).toEqual({
        id,
        ok: true,
        result: 'credentials_valid',
        detail: expect.any(String),
        providerCode,
        sandbox: true,
        durationMs: expect.any(Number),
      });
      for (const secret of secrets) expectNoSecret(res.text, secret);
    }
  });

  it('check: the sandbox answering WeChat\'s "invalid appsecret" (40125), or DingTalk\'s invalidClientSecret, is credentials_invalid (200, ok: false)', async () => {
    try {
      await faults('wechat', { errcode: 40125 });
      const res = await request(t.url).post(check('wechat')).set(cast.admin.auth).expect(200);
      expect(res.body).toMatchObject({ id: 'wechat', ok: false, result: 'credentials_invalid', providerCode: '40125' });
      expect(res.body.detail).toMatch(/40125/);
      await faults('dingtalk', { error: { status: 400, code: 'invalidClientSecret' } });
      const ding = await request(t.url).post(check('dingtalk')).set(cast.admin.auth).expect(200);
      expect(ding.body).toMatchObject({
        id: 'dingtalk',
        ok: false,
        result: 'credentials_invalid',
        providerCode: 'invalidClientSecret',
      });
    } finally {
      await faults('wechat', {});
      await faults('dingtalk', {});
    }
  });

  it('check: a sandbox slower than OAUTH_TIMEOUT_MS, or answering something that is not JSON, is unreachable (200, ok: false)', async () => {
    try {
      // The sandbox would answer (a valid-credentials verdict) after 2 s: the check must be cut at
      // OAUTH_TIMEOUT_MS (400 ms) instead, as its detail says.
      await faults('wechat', { delayMs: 2_000 });
      const slow = await request(t.url).post(check('wechat')).set(cast.admin.auth).expect(200);
      expect(slow.body).toMatchObject({ id: 'wechat', ok: false, result: 'unreachable', providerCode: null });
      expect(slow.body.detail).toMatch(/did not answer within 400 ms/);
      await faults('wechat', { malformed: true });
      const garbage = await request(t.url).post(check('wechat')).set(cast.admin.auth).expect(200);
      expect(garbage.body).toMatchObject({ id: 'wechat', ok: false, result: 'unreachable' });
    } finally {
      await faults('wechat', {});
    }
  });

  it('check: an unknown provider is 404 oauth.provider_disabled', async () => {
    expectError(await request(t.url).post(check('github')).set(cast.admin.auth), 404, 'oauth.provider_disabled');
    expectError(await request(t.url).post(check('WeChat')).set(cast.admin.auth), 404, 'oauth.provider_disabled');
  });

  it('roles: an auditor may list but not check (403); a user is 403 on both; anonymous is 401 on both', async () => {
    await request(t.url).get(LIST).set(cast.auditor.auth).expect(200);
    expectError(await request(t.url).post(check('wechat')).set(cast.auditor.auth), 403, 'auth.forbidden');
    expectError(await request(t.url).get(LIST).set(cast.user.auth), 403, 'auth.forbidden');
    expectError(await request(t.url).post(check('wechat')).set(cast.user.auth), 403, 'auth.forbidden');
    expectError(await request(t.url).get(LIST), 401, 'auth.unauthenticated');
    expectError(await request(t.url).post(check('wechat')), 401, 'auth.unauthenticated');
    expectError(await request(t.url).post(check('nosuch')).set(cast.user.auth), 403, 'auth.forbidden');
  });

  it('audits each check (provider.checked: actor, provider, result, request id, IP), with no secret in any audit event', async () => {
    const res = await request(t.url)
      .post(check('dingtalk'))
      .set(cast.admin.auth)
      .set('X-Request-Id', 'check-audit-1')
      .expect(200);
    expect(res.body.result).toBe('credentials_valid');
    const rows = await auditRows(t, `type = 'provider.checked' AND detail->>'requestId' = $1`, ['check-audit-1']);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor_id: cast.admin.user.id,
      user_id: null,
      ip: expect.stringMatching(/127\.0\.0\.1/),
      detail: {
        provider: 'dingtalk',
        sandbox: true,
        result: 'credentials_valid',
        providerCode: 'invalidParameter.authCode.notFound',
        requestId: 'check-audit-1',
        via: 'admin',
        durationMs: expect.any(Number),
      },
    });
    // A refused check (403, 404) is not an action: nothing is written for it.
    await request(t.url)
      .post(check('dingtalk'))
      .set(cast.auditor.auth)
      .set('X-Request-Id', 'check-audit-2')
      .expect(403);
    await request(t.url).post(check('github')).set(cast.admin.auth).set('X-Request-Id', 'check-audit-3').expect(404);
    expect(await auditRows(t, `detail->>'requestId' IN ('check-audit-2', 'check-audit-3')`)).toEqual([]);
    const texts = (await auditTexts(t)).join('\n');
    for (const secret of secrets) expectNoSecret(texts, secret);
  });
});

/**
 * WeChat's and DingTalk's token endpoints as far as a credential check goes:
 * the app's id and secret are checked first, then the code (every code is
 * unknown here). `hang` leaves every request unanswered (a timeout).
 */
class FakePlatforms {
  hang = false;
  readonly seen: Array<{ path: string; appid?: string | null; secret?: string | null }> = [];
  private server!: Server;
  url = '';

  constructor(
    private readonly app: { wechat: { appId: string; secret: string }; dingtalk: { clientId: string; secret: string } },
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((done) => this.server.listen(0, '127.0.0.1', done));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((done) => this.server.close(done));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    if (this.hang) return;
    const url = new URL(req.url ?? '/', this.url);
    const json = (status: number, value: unknown): void => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(value));
    };
    if (req.method === 'GET' && url.pathname === '/wechat/sns/oauth2/access_token') {
      const q = url.searchParams;
      this.seen.push({ path: url.pathname, appid: q.get('appid'), secret: q.get('secret') });
      if (q.get('appid') !== this.app.wechat.appId) return json(200, { errcode: 40013, errmsg: 'invalid appid' });
      if (q.get('secret') !== this.app.wechat.secret) return json(200, { errcode: 40125, errmsg: 'invalid appsecret' });
      return json(200, { errcode: 40029, errmsg: 'invalid code' });
    }
    if (req.method === 'POST' && url.pathname === '/dingtalk/v1.0/oauth2/userAccessToken') {
      const b = JSON.parse(body) as { clientId?: string; clientSecret?: string };
      this.seen.push({ path: url.pathname, appid: b.clientId ?? null, secret: b.clientSecret ?? null });
      if (b.clientId !== this.app.dingtalk.clientId)
        return json(400, { code: 'invalidClientId', message: '不合法的clientId' });
      if (b.clientSecret !== this.app.dingtalk.secret)
        return json(400, { code: 'invalidClientSecret', message: '不合法的clientSecret' });
      return json(400, { code: 'invalidParameter.authCode.notFound', message: '不合法的临时授权码' });
    }
    json(404, { errcode: -1, errmsg: 'not here' });
  }
}

describe('admin providers API with configured credentials (sandboxes off, the platforms faked locally)', () => {
  const WX = { appId: 'wx0123456789abcdef', secret: 'a3f9c2e17b6d4058a3f9c2e17b6dWXS1' };
  const DING = { clientId: 'dingabcdefghijkl0123', secret: 'Q7pLm2Xv9Rt4Kz8Nc1Bh6Jd3Fs5Gw0YyDING' };
  const DING_WRONG_SECRET = 'Z9yXw8Vu7Ts6Rq5Po4Nm3Lk2Ji1HgFfWRNG';
  const fake = new FakePlatforms({ wechat: WX, dingtalk: DING });
  let t: TestApp;
  let cast: Cast;

  beforeAll(async () => {
    await fake.start();
    t = await createTestApp({
      config: testConfig({
        DEMO_USER: 'off',
        SANDBOXES: 'off',
        OAUTH_TIMEOUT_MS: '300',
        WECHAT_APP_ID: WX.appId,
        WECHAT_APP_SECRET: WX.secret,
        WECHAT_API_BASE: `${fake.url}/wechat`,
        DINGTALK_CLIENT_ID: DING.clientId,
        DINGTALK_CLIENT_SECRET: DING_WRONG_SECRET,
        DINGTALK_CORP_ID: 'ding-corp-0001',
        DINGTALK_API_BASE: `${fake.url}/dingtalk`,
        ...NO_LOGIN_LIMITS,
      }),
    });
    cast = await adminCast(t);
  });
  afterAll(async () => {
    await t?.close();
    await fake.stop();
  });

  it('lists configured providers as not sandboxed with their secrets masked, and an unconfigured one as disabled with no settings', async () => {
    const res = await request(t.url).get(LIST).set(cast.admin.auth).expect(200);
    expect(res.body.items).toEqual([
      {
        id: 'wechat',
        enabled: true,
        sandbox: false,
        config: {
          appId: WX.appId,
          appSecret: '…WXS1',
          openBase: 'https://open.weixin.qq.com',
          apiBase: `${fake.url}/wechat`,
        },
      },
      { id: 'alipay', enabled: false, sandbox: false, config: null },
      {
        id: 'dingtalk',
        enabled: true,
        sandbox: false,
        config: {
          clientId: DING.clientId,
          clientSecret: '…WRNG',
          corpId: 'ding-corp-0001',
          loginBase: 'https://login.dingtalk.com',
          apiBase: `${fake.url}/dingtalk`,
        },
      },
    ]);
    expectNoSecret(res.text, WX.secret);
    expectNoSecret(res.text, DING_WRONG_SECRET);
  });

  it('check: the platform refusing only the code proves the configured credentials (and they were sent)', async () => {
    const res = await request(t.url).post(check('wechat')).set(cast.admin.auth).expect(200);
    expect(res.body).toMatchObject({
      id: 'wechat',
      ok: true,
      result: 'credentials_valid',
      providerCode: '40029',
      sandbox: false,
    });
    expect(fake.seen.at(-1)).toEqual({ path: '/wechat/sns/oauth2/access_token', appid: WX.appId, secret: WX.secret });
    expectNoSecret(res.text, WX.secret);
  });

  it('check: a wrong secret is credentials_invalid', async () => {
    const res = await request(t.url).post(check('dingtalk')).set(cast.admin.auth).expect(200);
    expect(res.body).toMatchObject({
      id: 'dingtalk',
      ok: false,
      result: 'credentials_invalid',
      providerCode: 'invalidClientSecret',
      sandbox: false,
    });
    expect(fake.seen.at(-1)).toEqual({
      path: '/dingtalk/v1.0/oauth2/userAccessToken',
      appid: DING.clientId,
      secret: DING_WRONG_SECRET,
    });
    expectNoSecret(res.text, DING_WRONG_SECRET);
  });

  it('check: a platform that does not answer within OAUTH_TIMEOUT_MS is unreachable, cut at that time', async () => {
    fake.hang = true;
    try {
      const res = await request(t.url).post(check('wechat')).set(cast.admin.auth).expect(200);
      expect(res.body).toMatchObject({ id: 'wechat', ok: false, result: 'unreachable', providerCode: null });
      expect(res.body.detail).toMatch(/did not answer within 300 ms/);
    } finally {
      fake.hang = false;
    }
  });

  it('check: a disabled provider is 404 oauth.provider_disabled, and nothing is audited for it', async () => {
    expectError(
      await request(t.url).post(check('alipay')).set(cast.admin.auth).set('X-Request-Id', 'disabled-1'),
      404,
      'oauth.provider_disabled',
    );
    expect(await auditRows(t, `detail->>'requestId' = 'disabled-1'`)).toEqual([]);
  });

  it('no audit event holds a configured secret', async () => {
    expect((await auditRows(t, `type = 'provider.checked'`)).length).toBeGreaterThanOrEqual(3);
    const texts = (await auditTexts(t)).join('\n');
    expectNoSecret(texts, WX.secret);
    expectNoSecret(texts, DING_WRONG_SECRET);
  });
});

describe('admin providers API with a provider URL nobody listens on', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const alipayKeys = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  let t: TestApp;
  let cast: Cast;
  let closed: number;

  beforeAll(async () => {
    closed = await freePort();
    t = await createTestApp({
      config: testConfig({
        DEMO_USER: 'off',
        SANDBOXES: 'off',
        OAUTH_TIMEOUT_MS: '300',
        ALIPAY_APP_ID: '2021000000000042',
        ALIPAY_PRIVATE_KEY: privateKey,
        ALIPAY_PUBLIC_KEY: alipayKeys.publicKey,
        ALIPAY_GATEWAY: `http://127.0.0.1:${closed}/gateway.do`,
        ...NO_LOGIN_LIMITS,
      }),
    });
    cast = await adminCast(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists Alipay with its private key masked (and fingerprints of both public keys), never the key itself', async () => {
    const res = await request(t.url).get(LIST).set(cast.admin.auth).expect(200);
    expect(res.body.items[1]).toEqual({
      id: 'alipay',
      enabled: true,
      sandbox: false,
      config: {
        appId: '2021000000000042',
        privateKey: `…${pemBody(privateKey).slice(-4)}`,
        appPublicKeySha256: fingerprint(publicKey),
        alipayPublicKeySha256: fingerprint(alipayKeys.publicKey),
        authBase: 'https://openauth.alipay.com',
        gateway: `http://127.0.0.1:${closed}/gateway.do`,
      },
    });
    expectNoSecret(res.text, privateKey);
  });

  it('check: unreachable at once when the connection is refused (not after a time-out), and audited as such', async () => {
    const res = await request(t.url)
      .post(check('alipay'))
      .set(cast.admin.auth)
      .set('X-Request-Id', 'closed-port-1')
      .expect(200);
    expect(res.body.detail).toMatch(/is unreachable/);
    expect(res.body.detail).not.toMatch(/did not answer within/);
    expect(res.body).toMatchObject({
      id: 'alipay',
      ok: false,
      result: 'unreachable',
      providerCode: null,
      sandbox: false,
    });
    expectNoSecret(res.text, privateKey);
    const rows = await auditRows(t, `detail->>'requestId' = 'closed-port-1'`);
    expect(rows).toMatchObject([
      { type: 'provider.checked', actor_id: cast.admin.user.id, detail: { provider: 'alipay', result: 'unreachable' } },
    ]);
    expectNoSecret((await auditTexts(t)).join('\n'), privateKey);
  });
});
