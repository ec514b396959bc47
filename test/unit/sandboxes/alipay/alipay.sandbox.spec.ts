import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { AlipaySdk } from 'alipay-sdk';
import { generateKeyPairSync } from 'node:crypto';
import { FakeClock } from '../../../support/fake-clock.js';
import { CryptoService } from '../../../../src/common/crypto/crypto.service.js';
import { AlipayProvider } from '../../../../src/oauth/providers/alipay/alipay.provider.js';
import { UpstreamHttp } from '../../../../src/oauth/upstream.http.js';
import { AlipaySandboxController } from '../../../../src/sandboxes/alipay/alipay.sandbox.controller.js';
import { AlipaySandbox } from '../../../../src/sandboxes/alipay/alipay.sandbox.js';

/**
 * Fidelity of the Alipay sandbox, over real HTTP, against the official
 * `alipay-sdk` as an independent client: the SDK must accept the sandbox's
 * signed answers and the sandbox the SDK's signed requests. Our own provider
 * talks to it too; the page flow and the lifetimes are checked here, the whole
 * login in test/e2e/oauth-alipay.e2e-spec.ts.
 */
describe('AlipaySandbox', () => {
  const clock = new FakeClock(Date.now());
  let app: INestApplication;
  let sandbox: AlipaySandbox;
  let base: string;

  beforeAll(async () => {
    sandbox = new AlipaySandbox(new CryptoService(), clock, 'app.test');
    const moduleRef = await Test.createTestingModule({
      controllers: [AlipaySandboxController],
      providers: [{ provide: AlipaySandbox, useValue: sandbox }],
    }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: false });
    (app as NestExpressApplication).useBodyParser('urlencoded', { extended: false });
    (app as NestExpressApplication).useBodyParser('json');
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}/sandbox/alipay`;
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => {
    sandbox.faults = {};
    sandbox.idMode = 'open_id';
  });

  const sdk = (privateKey = sandbox.app.appPrivateKeyPem, alipayPublicKey = sandbox.app.alipayPublicKeyPem) =>
    new AlipaySdk({
      appId: sandbox.app.appId,
      privateKey,
      keyType: 'PKCS8',
      alipayPublicKey,
      gateway: `${base}/gateway.do`,
    });

  /** Through the page: authorize, the phone agrees as `user`, the page redirects back; the callback URL. */
  async function approve(user = 'lihua', state = 'st4te-0123456789'): Promise<URL> {
    const query = new URLSearchParams({
      app_id: sandbox.app.appId,
      scope: 'auth_user',
      redirect_uri: 'https://app.test/api/v1/oauth/alipay/callback',
      state,
    });
    const opened = await fetch(`${base}/oauth2/publicAppAuthorize.htm?${query.toString()}`, { redirect: 'manual' });
    expect(opened.status).toBe(303);
    const pageUrl = new URL(opened.headers.get('location')!, `${base}/oauth2/`).toString();
    const page = await (await fetch(pageUrl, { redirect: 'manual' })).text();
    expect(page).toContain('<svg');
    const phoneUrl = /data-phone href="([^"]+)"/.exec(page)![1]!.replace(/&amp;/g, '&');
    const decided = await fetch(phoneUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `decision=approve&user=${user}`,
    });
    expect(await decided.text()).toContain('data-done="approve"');
    const back = await fetch(pageUrl, { redirect: 'manual' });
    expect(back.status).toBe(302);
    return new URL(back.headers.get('location')!);
  }

  const code = async (user?: string) => (await approve(user)).searchParams.get('auth_code')!;

  it('redirects back with app_id, source, scope, auth_code and state, in that order', async () => {
    const back = await approve('lihua', 'S'.repeat(43));
    expect(`${back.origin}${back.pathname}`).toBe('https://app.test/api/v1/oauth/alipay/callback');
    expect([...back.searchParams.keys()]).toEqual(['app_id', 'source', 'scope', 'auth_code', 'state']);
    expect(Object.fromEntries(back.searchParams)).toEqual({
      app_id: sandbox.app.appId,
      source: 'alipay_wallet',
      scope: 'auth_user',
      auth_code: expect.stringMatching(/^[0-9a-f]{32}$/),
      state: 'S'.repeat(43),
    });
  });

  it.each([
    ['an unknown app_id', { app_id: '2021999999999999' }, /app_id/],
    ['a scope without auth_user', { scope: 'auth_base' }, /scope/],
    ['a redirect_uri on another host', { redirect_uri: 'https://evil.example/cb' }, /redirect_uri/],
    ['a redirect_uri that is not http(s)', { redirect_uri: 'javascript://app.test/x' }, /redirect_uri/],
  ])('refuses %s on the authorization page', async (_case, change, message) => {
    const query = new URLSearchParams({
      app_id: sandbox.app.appId,
      scope: 'auth_user',
      redirect_uri: 'https://app.test/cb',
      state: 's',
      ...change,
    });
    const res = await fetch(`${base}/oauth2/publicAppAuthorize.htm?${query.toString()}`, { redirect: 'manual' });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(message);
  });

  it('the official SDK accepts its signed answers (token, then user info) and the sandbox the SDK’s signed requests', async () => {
    const client = sdk();
    const token = await client.exec(
      'alipay.system.oauth.token',
      { grantType: 'authorization_code', code: await code() },
      { validateSign: true },
    );
    expect(token).toEqual(
      expect.objectContaining({
        accessToken: expect.stringMatching(/^authusrB/),
        refreshToken: expect.any(String),
        expiresIn: 1_296_000,
        reExpiresIn: 2_592_000,
        openId: expect.stringMatching(/^0[A-Za-z0-9]{46}$/),
      }),
    );
    expect(token).not.toHaveProperty('userId');
    const info = await client.exec('alipay.user.info.share', { authToken: token.accessToken }, { validateSign: true });
    expect(info).toEqual(
      expect.objectContaining({
        code: '10000',
        msg: 'Success',
        nickName: '李华 (sandbox)',
        avatar: 'https://sandbox.invalid/avatar/lihua/132',
        openId: token.openId,
      }),
    );
  });

  it('answers the legacy user_id (2088…, the same in every app) when the app is not in OpenID mode', async () => {
    sandbox.idMode = 'user_id';
    const token = await sdk().exec(
      'alipay.system.oauth.token',
      { grantType: 'authorization_code', code: await code('wangfang') },
      { validateSign: true },
    );
    expect(token.userId).toMatch(/^2088\d{12}$/);
    expect(token).not.toHaveProperty('openId');
  });

  it('refreshes a token with refresh_token once', async () => {
    const client = sdk();
    const first = await client.exec(
      'alipay.system.oauth.token',
      { grantType: 'authorization_code', code: await code() },
      { validateSign: true },
    );
    const second = await client.exec(
      'alipay.system.oauth.token',
      { grantType: 'refresh_token', refreshToken: first.refreshToken },
      { validateSign: true },
    );
    expect(second.accessToken).not.toBe(first.accessToken);
    const again = await client.exec('alipay.system.oauth.token', {
      grantType: 'refresh_token',
      refreshToken: first.refreshToken,
    });
    expect(again).toMatchObject({ code: '40002', subCode: 'isv.refresh-token-invalid' });
  });

  it('answers a used code with error_response isv.code-invalid (signed, as every answer)', async () => {
    const client = sdk();
    const c = await code();
    await client.exec('alipay.system.oauth.token', { grantType: 'authorization_code', code: c });
    expect(await client.exec('alipay.system.oauth.token', { grantType: 'authorization_code', code: c })).toMatchObject({
      code: '40002',
      msg: 'Invalid Arguments',
      subCode: 'isv.code-invalid',
    });
    const raw = await postForm(
      client.sdkExecute('alipay.system.oauth.token', { grantType: 'authorization_code', code: c }),
    );
    expect(raw).toMatch(
      /^\{"error_response":\{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.code-invalid","sub_msg":"[^"]+"\},"sign":"[A-Za-z0-9+/=]+"\}$/,
    );
    const inner = /^\{"error_response":(\{[^}]*\}),"sign":"([^"]+)"\}$/.exec(raw)!;
    expect(client.rsaCheck(inner[1]!, inner[2]!, 'RSA2')).toBe(true);
  });

  it('burns a code at its first exchange even when that call fails, and lets it expire after 10 minutes', async () => {
    const client = sdk();
    const c = await code();
    sandbox.faults = { subCode: 'isp.unknow-error' };
    expect(await client.exec('alipay.system.oauth.token', { grantType: 'authorization_code', code: c })).toMatchObject({
      code: '20000',
      subCode: 'isp.unknow-error',
    });
    sandbox.faults = {};
    expect(await client.exec('alipay.system.oauth.token', { grantType: 'authorization_code', code: c })).toMatchObject({
      subCode: 'isv.code-invalid',
    });

    const late = await code();
    clock.advance(10 * 60_000);
    expect(
      await client.exec('alipay.system.oauth.token', { grantType: 'authorization_code', code: late }),
    ).toMatchObject({ subCode: 'isv.code-invalid' });
  });

  it('refuses a request signed with another private key: 40002 isv.invalid-signature, echoing the string it built', async () => {
    const stranger = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const c = await code();
    const refused = await sdk(stranger.privateKey).exec(
      'alipay.system.oauth.token',
      { grantType: 'authorization_code', code: c },
      { validateSign: true },
    );
    expect(refused).toMatchObject({ code: '40002', msg: 'Invalid Arguments', subCode: 'isv.invalid-signature' });
    expect(refused.subMsg).toContain(
      `app_id=${sandbox.app.appId}&charset=utf-8&code=${c}&grant_type=authorization_code&method=alipay.system.oauth.token&sign_type=RSA2&timestamp=`,
    );
    // A refused signature never reached the method: the code is still good.
    await expect(
      sdk().exec('alipay.system.oauth.token', { grantType: 'authorization_code', code: c }, { validateSign: true }),
    ).resolves.toHaveProperty('accessToken');
  });

  it('refuses a tampered request: one parameter changed after signing', async () => {
    const signed = new URLSearchParams(
      sdk().sdkExecute('alipay.system.oauth.token', { grantType: 'authorization_code', code: await code() }),
    );
    const mine = await code('zhangwei');
    signed.set('code', mine);
    expect(await postForm(signed.toString())).toContain('"sub_code":"isv.invalid-signature"');
  });

  it('reads parameters from the query, the body, or both (SDK, Casdoor and Logto styles)', async () => {
    const client = sdk();
    const inBody = client.sdkExecute('alipay.system.oauth.token', {
      grantType: 'authorization_code',
      code: await code(),
    });
    expect(await postForm(inBody)).toContain('"access_token":"authusrB');
    const inQuery = client.sdkExecute('alipay.system.oauth.token', {
      grantType: 'authorization_code',
      code: await code(),
    });
    const res = await fetch(`${base}/gateway.do?${inQuery}`, { method: 'POST' });
    expect(await res.text()).toContain('"access_token":"authusrB');
  });

  it.each([
    ['sign', 'isv.missing-signature', '40001'],
    ['app_id', 'isv.missing-app-id', '40001'],
    ['timestamp', 'isv.missing-timestamp', '40001'],
  ])('answers a request without %s with %s', async (name, subCode, codeNumber) => {
    const params = new URLSearchParams(
      sdk().sdkExecute('alipay.system.oauth.token', { grantType: 'authorization_code', code: 'x' }),
    );
    params.delete(name);
    const text = await postForm(params.toString());
    expect(text).toContain(`"code":"${codeNumber}"`);
    expect(text).toContain(`"sub_code":"${subCode}"`);
  });

  it('answers an unknown app_id and an unknown method', async () => {
    const other = new AlipaySdk({
      appId: '2021000000000001',
      privateKey: sandbox.app.appPrivateKeyPem,
      keyType: 'PKCS8',
      gateway: `${base}/gateway.do`,
    });
    expect(await other.exec('alipay.system.oauth.token', { grantType: 'authorization_code', code: 'x' })).toMatchObject(
      { subCode: 'isv.invalid-app-id' },
    );
    expect(await sdk().exec('alipay.trade.pay', { bizContent: { outTradeNo: '1' } })).toMatchObject({
      subCode: 'isv.invalid-method',
    });
  });

  it('answers an unknown auth_token with aop.invalid-auth-token (20001)', async () => {
    expect(
      await sdk().exec('alipay.user.info.share', { authToken: 'authusrBnope' }, { validateSign: true }),
    ).toMatchObject({ code: '20001', subCode: 'aop.invalid-auth-token' });
  });

  it.each([
    ['an unsigned', { unsigned: true }, /signature/],
    ['a wrongly signed', { wrongSignature: true }, /验签失败/],
  ])('the SDK refuses %s answer (fault injection works on the wire)', async (_case, faults, error) => {
    const c = await code();
    sandbox.faults = faults;
    await expect(
      sdk().exec('alipay.system.oauth.token', { grantType: 'authorization_code', code: c }, { validateSign: true }),
    ).rejects.toThrow(error);
  });

  it('answers a malformed body and waits on request (faults)', async () => {
    sandbox.faults = { malformed: true };
    await expect(
      sdk().exec('alipay.system.oauth.token', { grantType: 'authorization_code', code: await code() }),
    ).rejects.toThrow(/格式错误/);
    sandbox.faults = { delayMs: 300 };
    const started = Date.now();
    await sdk().exec('alipay.system.oauth.token', { grantType: 'authorization_code', code: await code() });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('serves our own provider end to end (token, user info, signatures both ways)', async () => {
    const provider = new AlipayProvider(
      {
        appId: sandbox.app.appId,
        privateKeyPem: sandbox.app.appPrivateKeyPem,
        alipayPublicKeyPem: sandbox.app.alipayPublicKeyPem,
        authBase: base,
        gateway: `${base}/gateway.do`,
      },
      new UpstreamHttp({ timeoutMs: 2_000, sandboxes: true }),
    );
    const c = await code('zhangwei');
    await expect(provider.profile(c)).resolves.toMatchObject({
      subject: sandbox.openId(sandbox.app.appId, { key: 'zhangwei' } as never),
      subjectKind: 'open_id',
      displayName: '张伟 (sandbox)',
    });
    await expect(provider.profile(c)).rejects.toMatchObject({
      failure: 'code_invalid',
      providerCode: 'isv.code-invalid',
    });
  });

  async function postForm(body: string): Promise<string> {
    const res = await fetch(`${base}/gateway.do`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8' },
      body,
    });
    expect(res.status).toBe(200);
    return res.text();
  }
});
