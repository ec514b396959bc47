import { describe, expect, it } from '@jest/globals';
import { OAuthProviderError } from '../../../../../src/oauth/oauth-provider.js';
import type { UpstreamHttp } from '../../../../../src/oauth/upstream.http.js';
import { WechatProvider } from '../../../../../src/oauth/providers/wechat/wechat.provider.js';

const SETTINGS = {
  appId: 'wxd477edab60670232',
  appSecret: 'app-secret',
  openBase: 'https://open.weixin.qq.com',
  apiBase: 'https://api.weixin.qq.com',
};

/** Answers by path, as WeChat would (HTTP 200, text/plain); records the URLs asked. */
function upstream(answers: Record<string, string>) {
  const asked: string[] = [];
  const http = {
    request: async (url: string) => {
      asked.push(url);
      const path = new URL(url).pathname;
      const text = answers[path];
      if (text === undefined) throw new Error(`unexpected ${path}`);
      return { status: 200, contentType: 'text/plain', text };
    },
  } as unknown as UpstreamHttp;
  return { http, asked };
}

// Recorded shapes of PROVIDERS.md §1.7 and §1.10 (WeChat escapes "/" as "\/").
const TOKEN =
  '{"access_token":"ACCESS_TOKEN","expires_in":7200,"refresh_token":"REFRESH_TOKEN","openid":"oVBrN5Vx5MWuYHxbpPz9S4dcCP3I","scope":"snsapi_login","unionid":"o6_bmasdasdsad6_2sgVt7hMZOPfL"}';
const USERINFO =
  '{"openid":"oVBrN5Vx5MWuYHxbpPz9S4dcCP3I","nickname":"Band","sex":0,"language":"zh_CN","city":"","province":"","country":"","headimgurl":"http:\\/\\/thirdwx.qlogo.cn\\/mmopen\\/g3MonUZtNHkdmzicIlibx6iaFqAc56vxLSUfpb6n5WKSYVY0ChQKkiaJSgQ1dZuTOgvLLrhJbERQQ4eMsv84eavHiaiceqxibJxCfHe\\/0","privilege":[],"unionid":"o6_bmasdasdsad6_2sgVt7hMZOPfL"}';

describe('WechatProvider', () => {
  it('builds the qrconnect URL (snsapi_login, #wechat_redirect)', () => {
    const provider = new WechatProvider(SETTINGS, upstream({}).http);
    expect(
      provider.authorizationUrl({
        state: 'S'.repeat(43),
        redirectUri: 'https://login.example.com/api/v1/oauth/wechat/callback',
      }),
    ).toBe(
      'https://open.weixin.qq.com/connect/qrconnect?appid=wxd477edab60670232&redirect_uri=https%3A%2F%2Flogin.example.com%2Fapi%2Fv1%2Foauth%2Fwechat%2Fcallback&response_type=code&scope=snsapi_login&state=SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS#wechat_redirect',
    );
  });

  it('reads code and state from the callback; no code means none', () => {
    const provider = new WechatProvider(SETTINGS, upstream({}).http);
    expect(provider.readCallback({ code: 'C', state: 'S' })).toEqual({ code: 'C', state: 'S' });
    expect(provider.readCallback({ state: 'S' })).toEqual({ code: null, state: 'S' });
    expect(provider.readCallback({ code: ['a', 'b'], state: '' })).toEqual({ code: null, state: null });
  });

  it('parses the recorded bodies: subject is the unionid, the avatar URL unescaped, no token kept', async () => {
    const { http, asked } = upstream({ '/sns/oauth2/access_token': TOKEN, '/sns/userinfo': USERINFO });
    const profile = await new WechatProvider(SETTINGS, http).profile('CODE');
    expect(profile).toEqual({
      subject: 'o6_bmasdasdsad6_2sgVt7hMZOPfL',
      subjectKind: 'unionid',
      displayName: 'Band',
      avatarUrl: expect.stringMatching(/^http:\/\/thirdwx\.qlogo\.cn\/mmopen\/.+\/0$/),
      profile: {
        openid: 'oVBrN5Vx5MWuYHxbpPz9S4dcCP3I',
        unionid: 'o6_bmasdasdsad6_2sgVt7hMZOPfL',
        nickname: 'Band',
        headimgurl: expect.any(String),
      },
    });
    expect(JSON.stringify(profile)).not.toMatch(/ACCESS_TOKEN|REFRESH_TOKEN/);
    expect(Object.fromEntries(new URL(asked[0]!).searchParams)).toEqual({
      appid: SETTINGS.appId,
      secret: 'app-secret',
      code: 'CODE',
      grant_type: 'authorization_code',
    });
    expect(Object.fromEntries(new URL(asked[1]!).searchParams)).toEqual({
      access_token: 'ACCESS_TOKEN',
      openid: 'oVBrN5Vx5MWuYHxbpPz9S4dcCP3I',
      lang: 'zh_CN',
    });
  });

  it('falls back to the openid when WeChat gives no unionid', async () => {
    const noUnion = (json: string) => json.replace(/,"unionid":"[^"]+"/, '');
    const { http } = upstream({ '/sns/oauth2/access_token': noUnion(TOKEN), '/sns/userinfo': noUnion(USERINFO) });
    expect(await new WechatProvider(SETTINGS, http).profile('CODE')).toMatchObject({
      subject: 'oVBrN5Vx5MWuYHxbpPz9S4dcCP3I',
      subjectKind: 'openid',
    });
  });

  it.each([
    [40029, 'code_invalid'],
    [40163, 'code_invalid'],
    [42003, 'code_invalid'],
    [41008, 'code_invalid'],
    [40125, 'app_invalid'],
    [40013, 'app_invalid'],
    [50001, 'app_invalid'],
    [48001, 'app_invalid'],
    [-1, 'upstream'],
    [45011, 'upstream'],
    [99999, 'upstream'],
  ])('maps errcode %i (with its trace suffix) to %s', async (errcode, failure) => {
    const { http } = upstream({
      '/sns/oauth2/access_token': `{"errcode":${errcode},"errmsg":"whatever, rid: 6500351b-2a0273e2-4af6b58d"}`,
    });
    const error = (await new WechatProvider(SETTINGS, http)
      .profile('CODE')
      .catch((e: unknown) => e)) as OAuthProviderError;
    expect(error).toBeInstanceOf(OAuthProviderError);
    expect({ failure: error.failure, providerCode: error.providerCode }).toEqual({
      failure,
      providerCode: String(errcode),
    });
  });

  it.each([
    ['not JSON', '<html>502</html>'],
    ['a token without openid', '{"access_token":"A","expires_in":7200}'],
    ['an array', '[]'],
  ])('treats %s as upstream', async (_case, body) => {
    const { http } = upstream({ '/sns/oauth2/access_token': body });
    await expect(new WechatProvider(SETTINGS, http).profile('CODE')).rejects.toMatchObject({ failure: 'upstream' });
  });

  it('refuses user info about another openid, and maps user-info errors (an invalid token is upstream)', async () => {
    const other = USERINFO.replace('"openid":"oVBrN5Vx5MWuYHxbpPz9S4dcCP3I"', '"openid":"oSomeoneElse"');
    await expect(
      new WechatProvider(
        SETTINGS,
        upstream({ '/sns/oauth2/access_token': TOKEN, '/sns/userinfo': other }).http,
      ).profile('C'),
    ).rejects.toMatchObject({ failure: 'upstream' });
    await expect(
      new WechatProvider(
        SETTINGS,
        upstream({
          '/sns/oauth2/access_token': TOKEN,
          '/sns/userinfo': '{"errcode":40001,"errmsg":"invalid credential"}',
        }).http,
      ).profile('C'),
    ).rejects.toMatchObject({ failure: 'upstream', providerCode: '40001' });
  });
});
