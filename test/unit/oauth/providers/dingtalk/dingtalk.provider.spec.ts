import { describe, expect, it } from '@jest/globals';
import type { UpstreamHttp } from '../../../../../src/oauth/upstream.http.js';
import { DingtalkProvider } from '../../../../../src/oauth/providers/dingtalk/dingtalk.provider.js';

const SETTINGS = {
  clientId: 'dingxxxxxxxx',
  clientSecret: 'client-secret',
  loginBase: 'https://login.dingtalk.com',
  apiBase: 'https://api.dingtalk.com',
};

type Answer = { status: number; text: string };
/** Answers by path; records each request. */
function upstream(answers: Record<string, Answer>) {
  const asked: Array<{ url: string; init: { method?: string; headers?: Record<string, string>; body?: string } }> = [];
  const http = {
    request: async (url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) => {
      asked.push({ url, init });
      const answer = answers[new URL(url).pathname];
      if (!answer) throw new Error(`unexpected ${url}`);
      return { status: answer.status, contentType: 'application/json;charset=utf-8', text: answer.text };
    },
  } as unknown as UpstreamHttp;
  return { http, asked };
}

// Shapes of PROVIDERS.md §3.6 and §3.7.
const TOKEN: Answer = {
  status: 200,
  text: '{"accessToken":"0b2f5b0e6c2c3a6e9f1d7c3b5a4e2d1f","refreshToken":"r","expireIn":7200,"corpId":"dingcorp"}',
};
const ME: Answer = {
  status: 200,
  text: '{"nick":"张三","avatarUrl":"https://static-legacy.dingtalk.com/media/x.jpg","mobile":"138","openId":"openid1","unionId":"unionid1","email":"","stateCode":"86"}',
};
const BAD_CODE: Answer = {
  status: 400,
  text: '{"code":"invalidParameter.authCode.notFound","message":"不合法的临时授权码","requestid":"r1"}',
};

describe('DingtalkProvider', () => {
  it('builds the oauth2/auth URL (openid corpid, prompt=consent, spaces as %20), with the corpId when restricted', () => {
    const url = new URL(
      new DingtalkProvider({ ...SETTINGS, corpId: 'dingcorp' }, upstream({}).http).authorizationUrl({
        state: 'S',
        redirectUri: 'https://x.example/cb',
      }),
    );
    expect(`${url.origin}${url.pathname}`).toBe('https://login.dingtalk.com/oauth2/auth');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'dingxxxxxxxx',
      redirect_uri: 'https://x.example/cb',
      response_type: 'code',
      scope: 'openid corpid',
      prompt: 'consent',
      state: 'S',
      corpId: 'dingcorp',
    });
    expect(url.search).toContain('scope=openid%20corpid');
  });

  it('reads authCode (documented) or code (observed)', () => {
    const provider = new DingtalkProvider(SETTINGS, upstream({}).http);
    expect(provider.readCallback({ authCode: 'A', code: 'A', state: 'S' })).toEqual({ code: 'A', state: 'S' });
    expect(provider.readCallback({ code: 'B', state: 'S' })).toEqual({ code: 'B', state: 'S' });
    expect(provider.readCallback({ error: 'access_denied', state: 'S' })).toEqual({ code: null, state: 'S' });
  });

  it('exchanges the code as camelCase JSON with the secret, reads the profile with the token header; subject unionId; no token kept', async () => {
    const { http, asked } = upstream({ '/v1.0/oauth2/userAccessToken': TOKEN, '/v1.0/contact/users/me': ME });
    const profile = await new DingtalkProvider(SETTINGS, http).profile('AUTHCODE');
    expect(profile).toEqual({
      subject: 'unionid1',
      subjectKind: 'unionId',
      displayName: '张三',
      avatarUrl: 'https://static-legacy.dingtalk.com/media/x.jpg',
      profile: { unionId: 'unionid1', openId: 'openid1', nick: '张三', corpId: 'dingcorp' },
    });
    expect(asked[0]!.init).toEqual({
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        clientId: 'dingxxxxxxxx',
        clientSecret: 'client-secret',
        code: 'AUTHCODE',
        grantType: 'authorization_code',
      }),
    });
    expect(asked[1]!.init.headers).toEqual({ 'x-acs-dingtalk-access-token': '0b2f5b0e6c2c3a6e9f1d7c3b5a4e2d1f' });
    expect(JSON.stringify(profile)).not.toContain('0b2f5b0e');
  });

  it.each([
    ['a bad, used or expired authCode', { '/v1.0/oauth2/userAccessToken': BAD_CODE }, 'code_invalid'],
    [
      'a refused client secret',
      { '/v1.0/oauth2/userAccessToken': { status: 400, text: '{"code":"invalidClientSecret","message":"x"}' } },
      'app_invalid',
    ],
    [
      'a server error',
      { '/v1.0/oauth2/userAccessToken': { status: 500, text: '{"code":"ServiceUnavailable","message":"x"}' } },
      'upstream',
    ],
    ['a body that is not JSON', { '/v1.0/oauth2/userAccessToken': { status: 200, text: '<html>' } }, 'upstream'],
    [
      'a token answer without accessToken',
      { '/v1.0/oauth2/userAccessToken': { status: 200, text: '{"expireIn":7200}' } },
      'upstream',
    ],
    [
      'a refused token on users/me (400 InvalidAuthentication)',
      {
        '/v1.0/oauth2/userAccessToken': TOKEN,
        '/v1.0/contact/users/me': {
          status: 400,
          text: '{"code":"InvalidAuthentication","message":"不合法的access_token"}',
        },
      },
      'upstream',
    ],
    [
      'an app without Contact.User.Read (403)',
      {
        '/v1.0/oauth2/userAccessToken': TOKEN,
        '/v1.0/contact/users/me': {
          status: 403,
          text: '{"code":"Forbidden.AccessDenied.AccessTokenPermissionDenied","message":"x"}',
        },
      },
      'app_invalid',
    ],
    [
      'a profile without unionId',
      { '/v1.0/oauth2/userAccessToken': TOKEN, '/v1.0/contact/users/me': { status: 200, text: '{"nick":"x"}' } },
      'upstream',
    ],
  ])('maps %s', async (_case, answers, failure) => {
    await expect(new DingtalkProvider(SETTINGS, upstream(answers).http).profile('C')).rejects.toMatchObject({
      failure,
    });
  });

  it('lets only the configured organisation in', async () => {
    const answers = { '/v1.0/oauth2/userAccessToken': TOKEN, '/v1.0/contact/users/me': ME };
    await expect(
      new DingtalkProvider({ ...SETTINGS, corpId: 'dingcorp' }, upstream(answers).http).profile('C'),
    ).resolves.toMatchObject({ subject: 'unionid1' });
    await expect(
      new DingtalkProvider({ ...SETTINGS, corpId: 'othercorp' }, upstream(answers).http).profile('C'),
    ).rejects.toMatchObject({ failure: 'not_allowed' });
  });
});
