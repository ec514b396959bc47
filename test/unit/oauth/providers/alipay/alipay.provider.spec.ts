import { describe, expect, it } from '@jest/globals';
import { createSign, createVerify, generateKeyPairSync } from 'node:crypto';
import { OAuthProviderError } from '../../../../../src/oauth/oauth-provider.js';
import type { UpstreamHttp } from '../../../../../src/oauth/upstream.http.js';
import {
  AlipayProvider,
  beijingTimestamp,
  topLevelMembers,
} from '../../../../../src/oauth/providers/alipay/alipay.provider.js';
import { FakeClock } from '../../../../support/fake-clock.js';

const keyPair = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
/** The app's keys (we sign with the private one), Alipay's (it signs answers), and a stranger's. */
const APP = keyPair();
const ALIPAY = keyPair();
const STRANGER = keyPair();

const SETTINGS = {
  appId: '2021000000000000',
  privateKeyPem: APP.privateKey,
  alipayPublicKeyPem: ALIPAY.publicKey,
  authBase: 'https://openauth.alipay.com',
  gateway: 'https://openapi.alipay.com/gateway.do',
};

/** Alipay's signature over an exact inner text (RSA2). */
const signed = (inner: string, key = ALIPAY.privateKey) =>
  createSign('RSA-SHA256').update(inner, 'utf8').sign(key, 'base64');
/** An answer as Alipay builds it: the inner text verbatim, then its signature. */
const answer = (responseKey: string, inner: string, key: string | null = ALIPAY.privateKey) =>
  key === null ? `{"${responseKey}":${inner}}` : `{"${responseKey}":${inner},"sign":"${signed(inner, key)}"}`;

// PROVIDERS.md §2.8 (success body, elisions filled in) and §2.9 (fields of the share answer; Alipay escapes "/").
const TOKEN_LEGACY =
  '{"access_token":"authusrB7f3c5e1a0d2b4c6e8f0a1b3c5d7e9f1a","auth_start":"2024-05-13 17:49:21","expires_in":1296000,"re_expires_in":2592000,"refresh_token":"authusrBd91e3c5a7b9d1f3e5a7c9b1d3f5e7a9c","user_id":"2088102150477652"}';
const INFO_LEGACY =
  '{"code":"10000","msg":"Success","avatar":"https:\\/\\/tfs.alipayobjects.com\\/images\\/partner\\/T1jXFeXfNbXXXXXXXX","city":"杭州市","gender":"F","nick_name":"支付宝用户","province":"浙江省","user_id":"2088102150477652"}';
const OPEN_ID = '074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5';
const TOKEN_OPENID = TOKEN_LEGACY.replace('"user_id":"2088102150477652"', `"open_id":"${OPEN_ID}"`);
const INFO_OPENID = INFO_LEGACY.replace('"user_id":"2088102150477652"', `"open_id":"${OPEN_ID}"`);
// PROVIDERS.md §2.8, the error body shape.
const CODE_INVALID =
  '{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.code-invalid","sub_msg":"授权码code无效"}';

type Asked = { url: string; method?: string; headers?: Record<string, string>; params: Record<string, string> };

/** Answers by the `method` parameter, as the gateway would (HTTP 200); records every request. */
function gateway(answers: Record<string, string>) {
  const asked: Asked[] = [];
  const http = {
    request: async (url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) => {
      const params = Object.fromEntries(new URLSearchParams(init.body ?? ''));
      asked.push({ url, method: init.method, headers: init.headers, params });
      const text = answers[params.method ?? ''];
      if (text === undefined) throw new Error(`unexpected ${params.method}`);
      return { status: 200, contentType: 'text/html;charset=utf-8', text };
    },
  } as unknown as UpstreamHttp;
  return { http, asked };
}

const legacy = () =>
  gateway({
    'alipay.system.oauth.token': answer('alipay_system_oauth_token_response', TOKEN_LEGACY),
    'alipay.user.info.share': answer('alipay_user_info_share_response', INFO_LEGACY),
  });

async function failureOf(promise: Promise<unknown>): Promise<{ failure: string; providerCode: string | undefined }> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OAuthProviderError);
  return { failure: (error as OAuthProviderError).failure, providerCode: (error as OAuthProviderError).providerCode };
}

describe('AlipayProvider', () => {
  it('builds the publicAppAuthorize.htm URL (app_id, scope=auth_user, redirect_uri, state; no response_type)', () => {
    const provider = new AlipayProvider(SETTINGS, gateway({}).http);
    const url = provider.authorizationUrl({
      state: 'S'.repeat(43),
      redirectUri: 'https://login.example.com/api/v1/oauth/alipay/callback',
    });
    expect(url).toBe(
      'https://openauth.alipay.com/oauth2/publicAppAuthorize.htm?app_id=2021000000000000&scope=auth_user&redirect_uri=https%3A%2F%2Flogin.example.com%2Fapi%2Fv1%2Foauth%2Falipay%2Fcallback&state=SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS',
    );
  });

  it('reads auth_code (not code) and state from the callback', () => {
    const provider = new AlipayProvider(SETTINGS, gateway({}).http);
    expect(
      provider.readCallback({
        app_id: SETTINGS.appId,
        source: 'alipay_wallet',
        scope: 'auth_user',
        auth_code: 'AC',
        state: 'S',
      }),
    ).toEqual({ code: 'AC', state: 'S' });
    expect(provider.readCallback({ code: 'C', state: 'S' })).toEqual({ code: null, state: 'S' });
    expect(provider.readCallback({ auth_code: ['a', 'b'], state: '' })).toEqual({ code: null, state: null });
  });

  it('parses the recorded bodies (legacy app): subject is the user_id, the avatar unescaped, no token kept', async () => {
    const { http, asked } = legacy();
    const profile = await new AlipayProvider(SETTINGS, http).profile('4b203fe6c11548bcabd8da5bb087a83b');
    expect(profile).toEqual({
      subject: '2088102150477652',
      subjectKind: 'user_id',
      displayName: '支付宝用户',
      avatarUrl: 'https://tfs.alipayobjects.com/images/partner/T1jXFeXfNbXXXXXXXX',
      profile: {
        user_id: '2088102150477652',
        nick_name: '支付宝用户',
        avatar: 'https://tfs.alipayobjects.com/images/partner/T1jXFeXfNbXXXXXXXX',
      },
    });
    expect(JSON.stringify(profile)).not.toMatch(/authusrB/);
    expect(asked.map((a) => [a.url, a.method, a.params.method])).toEqual([
      [SETTINGS.gateway, 'POST', 'alipay.system.oauth.token'],
      [SETTINGS.gateway, 'POST', 'alipay.user.info.share'],
    ]);
    expect(asked[0]!.headers).toMatchObject({ 'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8' });
    const { sign: _s1, timestamp: t1, ...token } = asked[0]!.params;
    expect(token).toEqual({
      app_id: SETTINGS.appId,
      method: 'alipay.system.oauth.token',
      format: 'JSON',
      charset: 'utf-8',
      sign_type: 'RSA2',
      version: '1.0',
      grant_type: 'authorization_code',
      code: '4b203fe6c11548bcabd8da5bb087a83b',
    });
    expect(t1).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const { sign: _s2, timestamp: _t2, ...info } = asked[1]!.params;
    expect(info).toEqual({
      app_id: SETTINGS.appId,
      method: 'alipay.user.info.share',
      format: 'JSON',
      charset: 'utf-8',
      sign_type: 'RSA2',
      version: '1.0',
      auth_token: 'authusrB7f3c5e1a0d2b4c6e8f0a1b3c5d7e9f1a',
    });
  });

  it('stamps each request with the injected clock, in Beijing time', async () => {
    const { http, asked } = legacy();
    await new AlipayProvider(SETTINGS, http, new FakeClock(Date.UTC(2026, 10, 26, 23, 30, 5))).profile(
      '4b203fe6c11548bcabd8da5bb087a83b',
    );
    expect(asked.map((a) => a.params.timestamp)).toEqual(['2026-11-27 07:30:05', '2026-11-27 07:30:05']);
  });

  it('signs each request per §2.6: every parameter but sign, sorted, raw values, RSA2 with the app key', async () => {
    const { http, asked } = legacy();
    await new AlipayProvider(SETTINGS, http).profile('4b203fe6c11548bcabd8da5bb087a83b');
    for (const { params } of asked) {
      const { sign, ...rest } = params;
      const text = Object.keys(rest)
        .sort()
        .map((k) => `${k}=${rest[k]}`)
        .join('&');
      expect(createVerify('RSA-SHA256').update(text, 'utf8').verify(APP.publicKey, sign!, 'base64')).toBe(true);
      expect(createVerify('RSA-SHA256').update(text, 'utf8').verify(STRANGER.publicKey, sign!, 'base64')).toBe(false);
    }
    expect(Object.keys(asked[0]!.params).sort().join('&')).toBe(
      'app_id&charset&code&format&grant_type&method&sign&sign_type&timestamp&version',
    );
  });

  it('sends the timestamp in Beijing time, whatever the server zone', () => {
    expect(beijingTimestamp(Date.UTC(2024, 4, 13, 9, 49, 20))).toBe('2024-05-13 17:49:20');
    expect(beijingTimestamp(Date.UTC(2024, 11, 31, 20, 0, 0))).toBe('2025-01-01 04:00:00');
  });

  it('takes the open_id as subject for an OpenID-mode app', async () => {
    const { http } = gateway({
      'alipay.system.oauth.token': answer('alipay_system_oauth_token_response', TOKEN_OPENID),
      'alipay.user.info.share': answer('alipay_user_info_share_response', INFO_OPENID),
    });
    const profile = await new AlipayProvider(SETTINGS, http).profile('AC');
    expect(profile).toMatchObject({ subject: OPEN_ID, subjectKind: 'open_id', profile: { open_id: OPEN_ID } });
    expect(profile.profile).not.toHaveProperty('user_id');
  });

  it('accepts lifetimes as strings (as the docs have them) as well as numbers', async () => {
    const asStrings = TOKEN_LEGACY.replace('"expires_in":1296000', '"expires_in":"3600"').replace(
      '"re_expires_in":2592000',
      '"re_expires_in":"2592000"',
    );
    const { http } = gateway({
      'alipay.system.oauth.token': answer('alipay_system_oauth_token_response', asStrings),
      'alipay.user.info.share': answer('alipay_user_info_share_response', INFO_LEGACY),
    });
    await expect(new AlipayProvider(SETTINGS, http).profile('AC')).resolves.toMatchObject({
      subject: '2088102150477652',
    });
  });

  it.each([
    ['isv.code-invalid', '40002', 'error_response', 'code_invalid'],
    ['isv.unmatched-app-id', '40002', 'alipay_system_oauth_token_response', 'code_invalid'],
    ['isv.invalid-signature', '40002', 'alipay_system_oauth_token_response', 'app_invalid'],
    ['isv.invalid-app-id', '40002', 'alipay_system_oauth_token_response', 'app_invalid'],
    ['isv.insufficient-isv-permissions', '40006', 'alipay_system_oauth_token_response', 'app_invalid'],
    ['isv.some-new-permission-check', '40006', 'alipay_system_oauth_token_response', 'app_invalid'],
    ['isv.grant-type-invalid', '40002', 'error_response', 'upstream'],
    ['isp.unknow-error', '20000', 'alipay_system_oauth_token_response', 'upstream'],
    ['aop.unknow-error', '20000', 'error_response', 'upstream'],
  ])('maps the token call’s %s (%s, under %s) to %s', async (subCode, code, key, failure) => {
    const { http } = gateway({
      'alipay.system.oauth.token': answer(
        key,
        `{"code":"${code}","msg":"whatever","sub_code":"${subCode}","sub_msg":"whatever"}`,
      ),
    });
    expect(await failureOf(new AlipayProvider(SETTINGS, http).profile('AC'))).toEqual({
      failure,
      providerCode: subCode,
    });
  });

  it.each([
    ['aop.invalid-auth-token', '20001', 'upstream'],
    ['aop.auth-token-time-out', '20001', 'upstream'],
    ['isv.insufficient-isv-permissions', '40006', 'app_invalid'],
    ['isp.unknow-error', '20000', 'upstream'],
  ])('maps the user-info call’s %s (%s) to %s', async (subCode, code, failure) => {
    const { http } = gateway({
      'alipay.system.oauth.token': answer('alipay_system_oauth_token_response', TOKEN_LEGACY),
      'alipay.user.info.share': answer(
        'alipay_user_info_share_response',
        `{"code":"${code}","msg":"Insufficient Token Permissions","sub_code":"${subCode}","sub_msg":"无效的访问令牌"}`,
      ),
    });
    expect(await failureOf(new AlipayProvider(SETTINGS, http).profile('AC'))).toEqual({
      failure,
      providerCode: subCode,
    });
  });

  it('reads an error_response whether or not it is signed (it signs nobody in)', async () => {
    for (const key of [null, STRANGER.privateKey, ALIPAY.privateKey]) {
      const { http } = gateway({ 'alipay.system.oauth.token': answer('error_response', CODE_INVALID, key) });
      expect(await failureOf(new AlipayProvider(SETTINGS, http).profile('AC'))).toEqual({
        failure: 'code_invalid',
        providerCode: 'isv.code-invalid',
      });
    }
  });

  it.each([
    ['an unsigned token answer', () => answer('alipay_system_oauth_token_response', TOKEN_LEGACY, null), null],
    [
      'a token answer signed by another key',
      () => answer('alipay_system_oauth_token_response', TOKEN_LEGACY, STRANGER.privateKey),
      null,
    ],
    [
      'a token answer whose text was changed after signing',
      () =>
        `{"alipay_system_oauth_token_response":${TOKEN_LEGACY.replace('2088102150477652', '2088999999999999')},"sign":"${signed(TOKEN_LEGACY)}"}`,
      null,
    ],
    [
      'a token answer with an empty sign',
      () => `{"alipay_system_oauth_token_response":${TOKEN_LEGACY},"sign":""}`,
      null,
    ],
    ['an unsigned user-info answer', null, () => answer('alipay_user_info_share_response', INFO_LEGACY, null)],
    [
      'a user-info answer signed by another key',
      null,
      () => answer('alipay_user_info_share_response', INFO_LEGACY, STRANGER.privateKey),
    ],
  ])('refuses %s as upstream: nobody is signed in', async (_case, token, info) => {
    const { http, asked } = gateway({
      'alipay.system.oauth.token': token ? token() : answer('alipay_system_oauth_token_response', TOKEN_LEGACY),
      'alipay.user.info.share': info ? info() : answer('alipay_user_info_share_response', INFO_LEGACY),
    });
    expect((await failureOf(new AlipayProvider(SETTINGS, http).profile('AC'))).failure).toBe('upstream');
    // A token nobody vouched for is never used.
    if (token) expect(asked).toHaveLength(1);
  });

  it('refuses a repeated *_response key (the verifier and the parser could see different texts)', async () => {
    const evil = TOKEN_LEGACY.replace('2088102150477652', '2088999999999999');
    const body = `{"alipay_system_oauth_token_response":${TOKEN_LEGACY},"sign":"${signed(TOKEN_LEGACY)}","alipay_system_oauth_token_response":${evil}}`;
    const { http } = gateway({ 'alipay.system.oauth.token': body });
    expect((await failureOf(new AlipayProvider(SETTINGS, http).profile('AC'))).failure).toBe('upstream');
  });

  it('verifies over the exact raw text, whitespace and member order included', async () => {
    const spaced = TOKEN_LEGACY.replace(/,/g, ', ');
    const body = `{ "sign" : "${signed(spaced)}" ,\n "alipay_system_oauth_token_response" : ${spaced} }`;
    const { http } = gateway({
      'alipay.system.oauth.token': body,
      'alipay.user.info.share': answer('alipay_user_info_share_response', INFO_LEGACY),
    });
    await expect(new AlipayProvider(SETTINGS, http).profile('AC')).resolves.toMatchObject({
      subject: '2088102150477652',
    });
  });

  it('accepts an answer signed over "/" but sent with "\\/" (the Java SDK’s retry)', async () => {
    const unescaped = INFO_LEGACY.replace(/\\\//g, '/');
    const body = `{"alipay_user_info_share_response":${INFO_LEGACY},"sign":"${signed(unescaped)}"}`;
    const { http } = gateway({
      'alipay.system.oauth.token': answer('alipay_system_oauth_token_response', TOKEN_LEGACY),
      'alipay.user.info.share': body,
    });
    await expect(new AlipayProvider(SETTINGS, http).profile('AC')).resolves.toMatchObject({
      avatarUrl: 'https://tfs.alipayobjects.com/images/partner/T1jXFeXfNbXXXXXXXX',
    });
  });

  it.each([
    ['not JSON', '<html>502 Bad Gateway</html>'],
    ['an array', '[]'],
    ['neither the method key nor error_response', `{"other_response":{"code":"10000"},"sign":"x"}`],
    [
      'a signed token answer without any user id',
      answer('alipay_system_oauth_token_response', '{"access_token":"authusrB1","expires_in":1296000}'),
    ],
    [
      'a signed token answer with a negative lifetime',
      answer('alipay_system_oauth_token_response', TOKEN_LEGACY.replace('1296000', '-1')),
    ],
    [
      'a non-10000 code without sub_code',
      answer('alipay_system_oauth_token_response', '{"code":"40004","msg":"Business Failed"}'),
    ],
  ])('treats %s as upstream', async (_case, body) => {
    const { http } = gateway({ 'alipay.system.oauth.token': body });
    expect((await failureOf(new AlipayProvider(SETTINGS, http).profile('AC'))).failure).toBe('upstream');
  });

  it('treats an HTTP error status as upstream', async () => {
    const http = {
      request: async () => ({
        status: 502,
        contentType: 'text/html',
        text: answer('alipay_system_oauth_token_response', TOKEN_LEGACY),
      }),
    } as unknown as UpstreamHttp;
    expect((await failureOf(new AlipayProvider(SETTINGS, http).profile('AC'))).failure).toBe('upstream');
  });

  it('refuses user info about another user than the token’s', async () => {
    const { http } = gateway({
      'alipay.system.oauth.token': answer('alipay_system_oauth_token_response', TOKEN_LEGACY),
      'alipay.user.info.share': answer(
        'alipay_user_info_share_response',
        INFO_LEGACY.replace('2088102150477652', '2088000000000001'),
      ),
    });
    expect((await failureOf(new AlipayProvider(SETTINGS, http).profile('AC'))).failure).toBe('upstream');
  });

  it('also takes a PKCS#1 app key (the SDK must be told the key type)', async () => {
    const pkcs1 = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    const { http, asked } = legacy();
    await new AlipayProvider({ ...SETTINGS, privateKeyPem: pkcs1.privateKey }, http).profile('AC');
    const { sign, ...rest } = asked[0]!.params;
    const text = Object.keys(rest)
      .sort()
      .map((k) => `${k}=${rest[k]}`)
      .join('&');
    expect(createVerify('RSA-SHA256').update(text, 'utf8').verify(pkcs1.publicKey, sign!, 'base64')).toBe(true);
  });

  it('finds the raw text of each top-level member', () => {
    const members = topLevelMembers('{"a_response":{"x":"}{\\"","y":[1,{"z":2}]} , "sign":"abc=","n":12}');
    expect(Object.fromEntries(members!)).toEqual({
      a_response: '{"x":"}{\\"","y":[1,{"z":2}]}',
      sign: '"abc="',
      n: '12',
    });
    expect(topLevelMembers('not json')).toBeNull();
    expect(topLevelMembers('"text"')).toBeNull();
  });
});
