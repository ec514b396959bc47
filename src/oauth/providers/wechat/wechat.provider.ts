import { z } from 'zod';
import type { WechatSettings } from '../../../config/index.js';
import {
  OAuthProviderError,
  type OAuthCallback,
  type OAuthFailure,
  type OAuthProfile,
  type OAuthProvider,
  type ProviderDefinition,
} from '../../oauth-provider.js';
import type { UpstreamHttp } from '../../upstream.http.js';
import { maskSecret } from '../../settings-view.js';

/** Every WeChat answer is HTTP 200; an error carries `errcode` (PROVIDERS.md §1.7, §1.11). */
const WechatError = z.object({ errcode: z.number().int(), errmsg: z.string().optional() });

/** W6 `sns/oauth2/access_token` (PROVIDERS.md §1.7). */
const WechatToken = z.object({
  access_token: z.string().min(1),
  expires_in: z.number(),
  refresh_token: z.string().optional(),
  openid: z.string().min(1),
  scope: z.string().optional(),
  unionid: z.string().min(1).optional(),
});

/** W9 `sns/userinfo` (PROVIDERS.md §1.10). */
const WechatUserInfo = z.object({
  openid: z.string().min(1),
  nickname: z.string().optional(),
  headimgurl: z.string().optional(),
  unionid: z.string().min(1).optional(),
  sex: z.number().optional(),
  language: z.string().optional(),
});

/**
 * WeChat's error codes onto the closed set (PROVIDERS.md §1.11): a code the
 * user must start again for; our credentials refused; anything else upstream.
 */
const FAILURES: Record<number, OAuthFailure> = {
  40029: 'code_invalid', // invalid code (unknown, another app's)
  40163: 'code_invalid', // code been used
  42003: 'code_invalid', // code expired
  41008: 'code_invalid', // missing code
  40013: 'app_invalid', // invalid appid
  40125: 'app_invalid', // invalid appsecret
  41002: 'app_invalid', // appid missing
  41004: 'app_invalid', // appsecret missing
  48001: 'app_invalid', // api unauthorized
  50001: 'app_invalid', // not authorised
};

/**
 * WeChat Open Platform website login (`qrconnect`, `snsapi_login`): the code
 * goes to `sns/oauth2/access_token` with the AppSecret, then `sns/userinfo`.
 * The subject is `unionid` when WeChat gives one, else `openid`.
 */
export class WechatProvider implements OAuthProvider {
  static readonly names = { en: 'WeChat', 'zh-CN': '微信' };
  readonly id = 'wechat' as const;
  readonly names = WechatProvider.names;

  constructor(
    private readonly settings: WechatSettings,
    private readonly http: UpstreamHttp,
  ) {}

  authorizationUrl({ state, redirectUri }: { state: string; redirectUri: string }): string {
    const query = new URLSearchParams({
      appid: this.settings.appId,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'snsapi_login',
      state,
    });
    return `${this.settings.openBase}/connect/qrconnect?${query.toString()}#wechat_redirect`;
  }

  readCallback(query: Record<string, unknown>): OAuthCallback {
    return { code: nonEmpty(query.code), state: nonEmpty(query.state) };
  }

  async profile(code: string): Promise<OAuthProfile> {
    const tokenQuery = new URLSearchParams({
      appid: this.settings.appId,
      secret: this.settings.appSecret,
      code,
      grant_type: 'authorization_code',
    });
    const token = await this.call(
      `${this.settings.apiBase}/sns/oauth2/access_token?${tokenQuery.toString()}`,
      WechatToken,
      'access_token',
    );
    const infoQuery = new URLSearchParams({ access_token: token.access_token, openid: token.openid, lang: 'zh_CN' });
    const info = await this.call(
      `${this.settings.apiBase}/sns/userinfo?${infoQuery.toString()}`,
      WechatUserInfo,
      'userinfo',
    );
    if (info.openid !== token.openid)
      throw new OAuthProviderError('upstream', 'WeChat userinfo answered for another openid');
    const unionid = info.unionid ?? token.unionid;
    return {
      subject: unionid ?? token.openid,
      subjectKind: unionid ? 'unionid' : 'openid',
      displayName: info.nickname || null,
      avatarUrl: info.headimgurl || null,
      profile: {
        openid: token.openid,
        ...(unionid ? { unionid } : {}),
        nickname: info.nickname ?? null,
        headimgurl: info.headimgurl ?? null,
      },
    };
  }

  /** One GET: the body is JSON whatever the content type; `errcode` is mapped; the rest must match `schema`. */
  private async call<T extends z.ZodType>(url: string, schema: T, what: string): Promise<z.infer<T>> {
    const { status, text } = await this.http.request(url);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new OAuthProviderError('upstream', `WeChat ${what} answered ${status} with a body that is not JSON`);
    }
    const error = WechatError.safeParse(body);
    if (error.success && error.data.errcode !== 0) {
      const code = error.data.errcode;
      throw new OAuthProviderError(
        FAILURES[code] ?? 'upstream',
        `WeChat ${what} refused: errcode ${code}`,
        String(code),
      );
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new OAuthProviderError('upstream', `WeChat ${what} answered an unexpected shape`);
    return parsed.data;
  }
}

function nonEmpty(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 && value.length <= 512 ? value : null;
}

/** Wechat for the registry (`oauth.registry.ts`). */
export const WECHAT: ProviderDefinition<WechatSettings> = {
  id: 'wechat',
  names: WechatProvider.names,
  build: (settings, { http }) => new WechatProvider(settings, http),
  view: (s) => ({ appId: s.appId, appSecret: maskSecret(s.appSecret), openBase: s.openBase, apiBase: s.apiBase }),
  secrets: (s) => [s.appSecret],
};
