import type { AlipaySdk } from 'alipay-sdk';
import { z } from 'zod';
import type { AlipaySettings } from '../../../config/index.js';
import {
  OAuthProviderError,
  type OAuthCallback,
  type OAuthFailure,
  type OAuthProfile,
  type OAuthProvider,
  type ProviderDefinition,
} from '../../oauth-provider.js';
import type { UpstreamHttp } from '../../upstream.http.js';
import { maskSecret, publicKeyFingerprint } from '../../settings-view.js';
import { type Clock, SystemClock } from '../../../common/index.js';

/** The fields every inner `*_response` object may carry (PROVIDERS.md §2.7, §2.10). */
const AlipayCommon = z.object({
  code: z.string().optional(),
  msg: z.string().optional(),
  sub_code: z.string().optional(),
  sub_msg: z.string().optional(),
});

/** Real answers send lifetimes as numbers, the docs as strings (PROVIDERS.md §2.8): both are read. */
const Lifetime = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]);

/** `alipay_system_oauth_token_response` (PROVIDERS.md §2.8): `user_id` for legacy apps, `open_id` in OpenID mode. */
const AlipayToken = z
  .object({
    access_token: z.string().min(1),
    expires_in: Lifetime,
    refresh_token: z.string().optional(),
    re_expires_in: Lifetime.optional(),
    user_id: z.string().min(1).optional(),
    open_id: z.string().min(1).optional(),
    union_id: z.string().min(1).optional(),
    auth_start: z.string().optional(),
  })
  .refine((t) => t.user_id !== undefined || t.open_id !== undefined, { message: 'neither user_id nor open_id' });

/** `alipay_user_info_share_response` (PROVIDERS.md §2.9): only the fields the app is entitled to. */
const AlipayUserInfo = z.object({
  code: z.literal('10000'),
  user_id: z.string().min(1).optional(),
  open_id: z.string().min(1).optional(),
  nick_name: z.string().optional(),
  avatar: z.string().optional(),
  gender: z.string().optional(),
  province: z.string().optional(),
  city: z.string().optional(),
});

/**
 * Alipay's `sub_code`s onto the closed set (PROVIDERS.md §2.8–2.10): a code the
 * user must start again for; our app or keys refused; anything else (an invalid
 * or expired user token, `isp.*`, unknown codes) upstream.
 */
const FAILURES: Record<string, OAuthFailure> = {
  'isv.code-invalid': 'code_invalid', // auth_code wrong, used, expired
  'isv.unmatched-app-id': 'code_invalid', // the code was issued to another app
  'isv.invalid-signature': 'app_invalid', // our private key is not the one registered
  'isv.invalid-app-id': 'app_invalid',
  'isv.missing-signature-key': 'app_invalid', // no app public key uploaded
  'isv.insufficient-isv-permissions': 'app_invalid', // the app lacks "获取会员信息"
};
/** By `code` when the `sub_code` is not in the table: 40006 is "Insufficient Permissions" of the app. */
const FAILURES_BY_CODE: Record<string, OAuthFailure> = { '40006': 'app_invalid' };

/**
 * Alipay website login (`publicAppAuthorize.htm`, scope `auth_user`): the
 * `auth_code` goes to the gateway's `alipay.system.oauth.token`, then
 * `alipay.user.info.share`. Every request is RSA2-signed with the app's
 * private key (the official SDK's signer); every successful answer must carry
 * Alipay's RSA2 signature over the exact raw text of its inner object, checked
 * with ALIPAY_PUBLIC_KEY before anything in it is believed. The subject is the
 * `open_id` (OpenID-mode apps) or else the legacy `user_id`.
 */
export class AlipayProvider implements OAuthProvider {
  static readonly names = { en: 'Alipay', 'zh-CN': '支付宝' };
  readonly id = 'alipay' as const;
  readonly names = AlipayProvider.names;
  /**
   * Used offline only (request signing, signature checks): its own HTTP client
   * is never called. Loaded at the first sign-in, not at start-up (the package
   * takes a few hundred milliseconds to import).
   */
  private sdk?: Promise<AlipaySdk>;

  constructor(
    private readonly settings: AlipaySettings,
    private readonly http: UpstreamHttp,
    /** For the requests' `timestamp`. */
    private readonly clock: Clock = new SystemClock(),
  ) {}

  private signer(): Promise<AlipaySdk> {
    this.sdk ??= import('alipay-sdk').then(
      ({ AlipaySdk }) =>
        // The SDK re-wraps each key by its first and last lines (trimmed here, so
        // that the last one is the END line) and must be told the private key's type.
        new AlipaySdk({
          appId: this.settings.appId,
          privateKey: this.settings.privateKeyPem.trim(),
          keyType: this.settings.privateKeyPem.includes('BEGIN RSA PRIVATE KEY') ? 'PKCS1' : 'PKCS8',
          alipayPublicKey: this.settings.alipayPublicKeyPem.trim(),
          gateway: this.settings.gateway,
          signType: 'RSA2',
        }),
    );
    return this.sdk;
  }

  authorizationUrl({ state, redirectUri }: { state: string; redirectUri: string }): string {
    const query = new URLSearchParams({
      app_id: this.settings.appId,
      scope: 'auth_user',
      redirect_uri: redirectUri,
      state,
    });
    return `${this.settings.authBase}/oauth2/publicAppAuthorize.htm?${query.toString()}`;
  }

  /** Alipay calls its code `auth_code` (PROVIDERS.md §2.4); `app_id`, `source` and `scope` are informative. */
  readCallback(query: Record<string, unknown>): OAuthCallback {
    return { code: nonEmpty(query.auth_code), state: nonEmpty(query.state) };
  }

  async profile(code: string): Promise<OAuthProfile> {
    const token = await this.call('alipay.system.oauth.token', { grant_type: 'authorization_code', code }, AlipayToken);
    const info = await this.call('alipay.user.info.share', { auth_token: token.access_token }, AlipayUserInfo);
    if (
      (info.open_id !== undefined && info.open_id !== token.open_id) ||
      (info.user_id !== undefined && info.user_id !== token.user_id)
    ) {
      throw new OAuthProviderError('upstream', 'Alipay user info answered for another user');
    }
    const subjectKind = token.open_id !== undefined ? 'open_id' : 'user_id';
    return {
      subject: (token.open_id ?? token.user_id)!,
      subjectKind,
      displayName: info.nick_name || null,
      avatarUrl: info.avatar || null,
      profile: {
        ...(token.open_id !== undefined ? { open_id: token.open_id } : {}),
        ...(token.user_id !== undefined ? { user_id: token.user_id } : {}),
        ...(token.union_id !== undefined ? { union_id: token.union_id } : {}),
        nick_name: info.nick_name ?? null,
        avatar: info.avatar ?? null,
      },
    };
  }

  /**
   * One gateway call: every parameter signed and sent in the form body (so no
   * `auth_token` sits in a URL); the answer read from its raw text. An error
   * (an `error_response`, or a `sub_code` under the method's key) signs nobody
   * in, so it is mapped whether signed or not; a success is believed only when
   * Alipay's signature over its exact inner text verifies.
   */
  private async call<T extends z.ZodType>(
    method: string,
    params: Record<string, string>,
    schema: T,
  ): Promise<z.infer<T>> {
    const sdk = await this.signer();
    const body = sdk.sdkExecute(method, { ...params, format: 'JSON', timestamp: beijingTimestamp(this.clock.now()) });
    const { status, text } = await this.http.request(this.settings.gateway, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8', Accept: 'application/json' },
      body,
    });
    if (status !== 200) throw new OAuthProviderError('upstream', `Alipay ${method} answered HTTP ${status}`);
    const members = topLevelMembers(text);
    if (!members)
      throw new OAuthProviderError('upstream', `Alipay ${method} answered a body that is not a JSON object`);
    const responseKey = `${method.replaceAll('.', '_')}_response`;
    const raw = members.get(responseKey) ?? null;
    const rawError = members.get('error_response') ?? null;
    if (raw === null) {
      if (rawError !== null) throw refusal(method, JSON.parse(rawError));
      throw new OAuthProviderError('upstream', `Alipay ${method} answered neither ${responseKey} nor error_response`);
    }
    const inner: unknown = JSON.parse(raw);
    const common = AlipayCommon.safeParse(inner);
    if (!common.success) throw new OAuthProviderError('upstream', `Alipay ${method} answered an unexpected shape`);
    if (common.data.sub_code !== undefined || (common.data.code !== undefined && common.data.code !== '10000'))
      throw refusal(method, inner);
    const sign = members.has('sign') ? (JSON.parse(members.get('sign')!) as unknown) : undefined;
    if (typeof sign !== 'string' || sign.length === 0)
      throw new OAuthProviderError('upstream', `Alipay ${method} answered a success without a signature`);
    if (!this.verifies(sdk, raw, sign))
      throw new OAuthProviderError(
        'upstream',
        `Alipay ${method} answered a success whose signature does not verify with ALIPAY_PUBLIC_KEY`,
      );
    // What is read is the very text that was verified, parsed once.
    const parsed = schema.safeParse(inner);
    if (!parsed.success) throw new OAuthProviderError('upstream', `Alipay ${method} answered an unexpected shape`);
    return parsed.data;
  }

  /**
   * RSA2 over the exact inner text (the SDK's checker). Alipay's Java SDK also
   * tries the text with `\/` unescaped when it does not verify as sent
   * (PROVIDERS.md §2.7 ⚠): both spellings parse to the same values.
   */
  private verifies(sdk: AlipaySdk, raw: string, sign: string): boolean {
    const check = (text: string) => {
      try {
        return sdk.rsaCheck(text, sign, 'RSA2');
      } catch {
        return false;
      }
    };
    return check(raw) || (raw.includes('\\/') && check(raw.replaceAll('\\/', '/')));
  }
}

/** An Alipay error answer as a provider error (its `sub_code` for the logs, never `sub_msg`, which may echo parameters). */
function refusal(method: string, inner: unknown): OAuthProviderError {
  const parsed = AlipayCommon.safeParse(inner);
  if (!parsed.success)
    return new OAuthProviderError('upstream', `Alipay ${method} answered an error of an unexpected shape`);
  const { code, sub_code: subCode } = parsed.data;
  const failure =
    (subCode !== undefined ? FAILURES[subCode] : undefined) ??
    (code !== undefined ? FAILURES_BY_CODE[code] : undefined) ??
    'upstream';
  const providerCode = subCode ?? code;
  return new OAuthProviderError(
    failure,
    `Alipay ${method} refused: ${code ?? '?'} ${subCode ?? ''}`.trimEnd(),
    providerCode,
  );
}

/** `yyyy-MM-dd HH:mm:ss` in Beijing time, as the gateway reads `timestamp` (PROVIDERS.md §2.5), whatever the server's zone. */
export function beijingTimestamp(now: number): string {
  return new Date(now + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * The raw text of each member of a top-level JSON object, by key; null when
 * the text is not one JSON object or repeats a key (two `*_response`s could
 * otherwise show one text to the verifier and another to the parser).
 */
export function topLevelMembers(text: string): Map<string, string> | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  // The text is valid JSON from here on: a plain scan can find the spans.
  const members = new Map<string, string>();
  let i = skipSpace(text, text.indexOf('{') + 1);
  while (text[i] !== '}') {
    const keyEnd = endOfString(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    const valueStart = skipSpace(text, skipSpace(text, keyEnd) + 1);
    const valueEnd = endOfValue(text, valueStart);
    if (members.has(key)) return null;
    members.set(key, text.slice(valueStart, valueEnd));
    i = skipSpace(text, valueEnd);
    if (text[i] === ',') i = skipSpace(text, i + 1);
  }
  return members;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  return i;
}

/** `i` is at a `"`: the index just past its closing quote. */
function endOfString(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') return j + 1;
  }
  return text.length;
}

/** The index just past the JSON value starting at `i` (strings, objects and arrays are matched, not counted by eye). */
function endOfValue(text: string, i: number): number {
  if (text[i] === '"') return endOfString(text, i);
  if (text[i] === '{' || text[i] === '[') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const c = text[j];
      if (c === '"') j = endOfString(text, j) - 1;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return text.length;
  }
  let j = i;
  while (j < text.length && !',}] \t\n\r'.includes(text[j]!)) j++;
  return j;
}

function nonEmpty(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 && value.length <= 512 ? value : null;
}

/** Alipay for the registry (`oauth.registry.ts`). */
export const ALIPAY: ProviderDefinition<AlipaySettings> = {
  id: 'alipay',
  names: AlipayProvider.names,
  build: (settings, { http, clock }) => new AlipayProvider(settings, http, clock),
  view: (s) => ({
    appId: s.appId,
    privateKey: maskSecret(s.privateKeyPem),
    /** The public half of our private key: what must be registered as the app's public key with Alipay. */
    appPublicKeySha256: publicKeyFingerprint(s.privateKeyPem),
    alipayPublicKeySha256: publicKeyFingerprint(s.alipayPublicKeyPem),
    authBase: s.authBase,
    gateway: s.gateway,
  }),
  secrets: (s) => [s.privateKeyPem],
};
