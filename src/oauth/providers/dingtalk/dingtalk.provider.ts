import { z } from 'zod';
import type { DingtalkSettings } from '../../../config/index.js';
import {
  OAuthProviderError,
  type OAuthCallback,
  type OAuthProfile,
  type OAuthProvider,
  type ProviderDefinition,
} from '../../oauth-provider.js';
import type { UpstreamHttp } from '../../upstream.http.js';
import { maskSecret } from '../../settings-view.js';

/** D3 `POST /v1.0/oauth2/userAccessToken` (PROVIDERS.md §3.6). */
const DingtalkToken = z.object({
  accessToken: z.string().min(1),
  refreshToken: z.string().optional(),
  expireIn: z.union([z.number(), z.string()]),
  corpId: z.string().optional(),
});

/** D4 `GET /v1.0/contact/users/me` (PROVIDERS.md §3.7). */
const DingtalkMe = z.object({
  nick: z.string().optional(),
  avatarUrl: z.string().optional(),
  openId: z.string().optional(),
  unionId: z.string().min(1),
});

/** DingTalk's errors: non-2xx with `{ code, message, requestid }`. */
const DingtalkError = z.object({ code: z.string(), message: z.string().optional() });

/**
 * DingTalk's new OAuth2 login: `login.dingtalk.com/oauth2/auth` (scope
 * `openid corpid`, `prompt=consent`), the code to `userAccessToken` (JSON,
 * camelCase, server side with the client secret), then `contact/users/me`.
 * The subject is `unionId`. With a configured corpId, only that organisation's
 * members get in (`not_allowed` otherwise).
 */
export class DingtalkProvider implements OAuthProvider {
  static readonly names = { en: 'DingTalk', 'zh-CN': '钉钉' };
  readonly id = 'dingtalk' as const;
  readonly names = DingtalkProvider.names;

  constructor(
    private readonly settings: DingtalkSettings,
    private readonly http: UpstreamHttp,
  ) {}

  authorizationUrl({ state, redirectUri }: { state: string; redirectUri: string }): string {
    const query = new URLSearchParams({
      client_id: this.settings.clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'openid corpid',
      prompt: 'consent',
      state,
      ...(this.settings.corpId ? { corpId: this.settings.corpId } : {}),
    });
    return `${this.settings.loginBase}/oauth2/auth?${query.toString().replace(/\+/g, '%20')}`;
  }

  /** Documented `authCode`; `code` is observed too (PROVIDERS.md §3.5): either will do. */
  readCallback(query: Record<string, unknown>): OAuthCallback {
    return { code: nonEmpty(query.authCode) ?? nonEmpty(query.code), state: nonEmpty(query.state) };
  }

  async profile(code: string): Promise<OAuthProfile> {
    const token = await this.call(
      'userAccessToken',
      `${this.settings.apiBase}/v1.0/oauth2/userAccessToken`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          clientId: this.settings.clientId,
          clientSecret: this.settings.clientSecret,
          code,
          grantType: 'authorization_code',
        }),
      },
      DingtalkToken,
    );
    if (this.settings.corpId && token.corpId !== this.settings.corpId) {
      throw new OAuthProviderError('not_allowed', 'DingTalk sign-in from outside the configured organisation');
    }
    const me = await this.call(
      'contact/users/me',
      `${this.settings.apiBase}/v1.0/contact/users/me`,
      { headers: { 'x-acs-dingtalk-access-token': token.accessToken } },
      DingtalkMe,
    );
    return {
      subject: me.unionId,
      subjectKind: 'unionId',
      displayName: me.nick || null,
      avatarUrl: me.avatarUrl || null,
      profile: {
        unionId: me.unionId,
        ...(me.openId ? { openId: me.openId } : {}),
        nick: me.nick ?? null,
        ...(token.corpId ? { corpId: token.corpId } : {}),
      },
    };
  }

  private async call<T extends z.ZodType>(
    what: string,
    url: string,
    init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string },
    schema: T,
  ): Promise<z.infer<T>> {
    const { status, text } = await this.http.request(url, init);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new OAuthProviderError('upstream', `DingTalk ${what} answered ${status} with a body that is not JSON`);
    }
    if (status < 200 || status >= 300) {
      const error = DingtalkError.safeParse(body);
      const code = error.success ? error.data.code : `http-${status}`;
      throw new OAuthProviderError(failureOf(what, status, code), `DingTalk ${what} refused: ${status} ${code}`, code);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new OAuthProviderError('upstream', `DingTalk ${what} answered an unexpected shape`);
    return parsed.data;
  }
}

/** DingTalk 4xx bodies onto the closed set (PROVIDERS.md §3.6, §3.7). */
function failureOf(what: string, status: number, code: string): 'code_invalid' | 'app_invalid' | 'upstream' {
  if (what === 'userAccessToken') {
    if (code.startsWith('invalidParameter.authCode') || code === 'invalidAuthCode') return 'code_invalid';
    if (status === 400 || status === 401 || status === 403) return 'app_invalid'; // secret, client id, app not allowed
    return 'upstream';
  }
  // The token we were just given is refused, or the app lacks Contact.User.Read.
  if (code.startsWith('Forbidden')) return 'app_invalid';
  return 'upstream';
}

function nonEmpty(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 && value.length <= 512 ? value : null;
}

/** Dingtalk for the registry (`oauth.registry.ts`). */
export const DINGTALK: ProviderDefinition<DingtalkSettings> = {
  id: 'dingtalk',
  names: DingtalkProvider.names,
  build: (settings, { http }) => new DingtalkProvider(settings, http),
  view: (s) => ({
    clientId: s.clientId,
    clientSecret: maskSecret(s.clientSecret),
    corpId: s.corpId ?? null,
    loginBase: s.loginBase,
    apiBase: s.apiBase,
  }),
  secrets: (s) => [s.clientSecret],
};
