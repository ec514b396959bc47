import { createHash, createSign, createVerify, generateKeyPair, generateKeyPairSync } from 'node:crypto';
import { promisify } from 'node:util';
import type { Clock, CryptoService } from '../../common/index.js';

import { hostOf, PendingAuthorizations, str } from '../pending-authorizations.js';
import { SANDBOX_USERS, type SandboxUser } from '../sandbox-users.js';

/** PROVIDERS.md §2.4, §4: an auth_code lives 10 minutes and is burnt by its first exchange; tokens ≈15 d, refresh ≈30 d. */
const CODE_TTL_MS = 10 * 60_000;
const ACCESS_TOKEN_TTL_S = 1_296_000;
const REFRESH_TOKEN_TTL_S = 2_592_000;
/** `sign_type` → the hash of SHA*withRSA (PROVIDERS.md §2.6). */
const ALGORITHMS: Record<string, string> = { RSA2: 'RSA-SHA256', RSA: 'RSA-SHA1' };

export interface AlipayApp {
  appId: string;
  /** Handed to our provider: it signs requests with it (the sandbox keeps the public half). */
  appPrivateKeyPem: string;
  /** Handed to our provider: the sandbox signs its answers with the private half. */
  alipayPublicKeyPem: string;
  /** The "authorization callback address" registered for the app: redirect_uri's host must equal it. */
  callbackHost: string;
}

/** Faults a test can inject into the gateway's answers. */
export interface AlipayFaults {
  /** Answer this late (past the client's timeout, to prove it gives up). */
  delayMs?: number;
  /** Answer a body that is not JSON. */
  malformed?: boolean;
  /** Answer without `sign`. */
  unsigned?: boolean;
  /** Sign the answer with a key that is not Alipay's. */
  wrongSignature?: boolean;
  /** Answer this `sub_code` instead of the real outcome (the code is still burnt). */
  subCode?: string;
}

/** One gateway answer: its exact text (the signature covers a substring of it). */
export interface GatewayAnswer {
  text: string;
}

type Inner = Record<string, unknown>;
/** Where an answer goes: under the method's key, or `error_response` (PROVIDERS.md §2.7). */
type Outcome = { key: 'method' | 'error_response'; inner: Inner };

/** `code`/`msg` of the documented `sub_code` families (PROVIDERS.md §2.10). */
function errorOf(subCode: string, subMsg: string, key: Outcome['key'] = 'method'): Outcome {
  const [code, msg] = subCode.startsWith('isv.missing-')
    ? ['40001', 'Missing Required Arguments']
    : subCode.startsWith('isv.insufficient-')
      ? ['40006', 'Insufficient Permissions']
      : subCode.startsWith('aop.invalid-auth-token') || subCode.startsWith('aop.auth-token-time-out')
        ? ['20001', 'Insufficient Token Permissions']
        : subCode.startsWith('isp.') || subCode.startsWith('aop.')
          ? ['20000', 'Service Currently Unavailable']
          : ['40002', 'Invalid Arguments'];
  return { key, inner: { code, msg, sub_code: subCode, sub_msg: subMsg } };
}

/**
 * Alipay's website login and OpenAPI gateway as PROVIDERS.md §2 describes
 * them, in memory: the `publicAppAuthorize.htm` page's pending authorizations;
 * a gateway that merges query and body, checks the common parameters and the
 * app's RSA signature over the §2.6 string, burns auth codes at their first
 * exchange (even a failed one), and signs every answer with its own key over
 * the exact inner text. One registered app, in OpenID mode unless switched.
 */
export class AlipaySandbox {
  readonly app: AlipayApp;
  /** New apps get `open_id` and no `user_id` (PROVIDERS.md §2.9); `user_id` is the legacy mode. */
  idMode: 'open_id' | 'user_id' = 'open_id';
  faults: AlipayFaults = {};
  private readonly appPublicKeyPem: string;
  private readonly alipayPrivateKeyPem: string;
  private strangerKeyPem: string | null = null;
  private readonly pending: PendingAuthorizations<{ scope: string }>;
  private readonly codes = new Map<string, { appId: string; user: SandboxUser; expiresAt: number; used: boolean }>();
  private readonly tokens = new Map<string, { appId: string; user: SandboxUser; expiresAt: number }>();
  private readonly refreshTokens = new Map<
    string,
    { appId: string; user: SandboxUser; expiresAt: number; used: boolean }
  >();

  constructor(
    private readonly crypto: CryptoService,
    private readonly clock: Clock,
    callbackHost: string,
    /** The app's key pair and Alipay's (made here when not given: see `AlipaySandbox.create`). */
    keys: { app: RsaPems; alipay: RsaPems } = { app: rsaKeyPair(), alipay: rsaKeyPair() },
  ) {
    this.pending = new PendingAuthorizations(crypto, clock);
    const { app: appKeys, alipay: alipayKeys } = keys;
    this.appPublicKeyPem = appKeys.publicKey;
    this.alipayPrivateKeyPem = alipayKeys.privateKey;
    const digits = Array.from({ length: 12 }, () => String(crypto.randomInt(10))).join('');
    this.app = {
      appId: `2021${digits}`,
      appPrivateKeyPem: appKeys.privateKey,
      alipayPublicKeyPem: alipayKeys.publicKey,
      callbackHost,
    };
  }

  /** A sandbox whose two RSA key pairs are made in the thread pool, in parallel (≈ 200 ms each otherwise on the main thread). */
  static async create(crypto: CryptoService, clock: Clock, callbackHost: string): Promise<AlipaySandbox> {
    const [app, alipay] = await Promise.all([rsaKeyPairAsync(), rsaKeyPairAsync()]);
    return new AlipaySandbox(crypto, clock, callbackHost, { app, alipay });
  }

  /** A1: checks the request as Alipay does; a pending authorization (its uuid) or the error page's text. */
  open(query: Record<string, unknown>): { uuid: string } | { error: string } {
    const appId = str(query.app_id);
    const scope = str(query.scope);
    const redirectUri = str(query.redirect_uri);
    if (appId !== this.app.appId) return { error: '应用不存在 (app_id is not a registered application)' };
    if (!scope?.split(',').includes('auth_user'))
      return { error: 'scope 参数错误 (scope must include auth_user for website login)' };
    if (!redirectUri || !/^https?:\/\//.test(redirectUri) || hostOf(redirectUri) !== this.app.callbackHost) {
      return { error: 'redirect_uri 参数错误 (it must be the registered authorization callback address)' };
    }
    const state = str(query.state);
    if (state !== null && (state.length > 256 || !/^[\x21-\x7e]*$/.test(state)))
      return { error: 'state 参数错误 (no Chinese or control characters)' };
    this.sweep();
    return { uuid: this.pending.open({ redirectUri, scope, state }) };
  }

  /** The page's view of a pending authorization (null: unknown or expired). */
  status(uuid: string): { waiting: true } | { cancelled: true } | { redirect: string } | null {
    const p = this.pending.get(uuid);
    if (!p) return null;
    if (p.decision === null) return { waiting: true };
    if (p.decision === 'refused') return { cancelled: true };
    // PROVIDERS.md §2.4: app_id, source, scope, auth_code, state, in this order.
    const url = new URL(p.redirectUri);
    url.searchParams.set('app_id', this.app.appId);
    url.searchParams.set('source', 'alipay_wallet');
    url.searchParams.set('scope', p.scope);
    url.searchParams.set('auth_code', p.decision.code);
    if (p.state !== null) url.searchParams.set('state', p.state);
    this.pending.close(uuid);
    return { redirect: url.toString() };
  }

  /** The phone approves (an auth_code for `userKey`) or cancels (no redirect: PROVIDERS.md §2.4). */
  decide(uuid: string, decision: 'approve' | 'cancel', userKey: string): boolean {
    const user = SANDBOX_USERS.find((u) => u.key === userKey);
    if (!this.pending.waiting(uuid) || !user) return false;
    if (decision === 'cancel') return this.pending.decide(uuid, 'refused');
    const code = createHash('sha256').update(this.crypto.randomToken(24)).digest('hex').slice(0, 32);
    this.codes.set(code, { appId: this.app.appId, user, expiresAt: this.clock.now() + CODE_TTL_MS, used: false });
    return this.pending.decide(uuid, { code });
  }

  /** A2 `gateway.do`: `params` is the query merged with the form body. */
  gateway(params: Record<string, unknown>): GatewayAnswer {
    const method = str(params.method);
    const signType = str(params.sign_type);
    const outcome = this.dispatch(params, method);
    if (this.faults.malformed) return { text: '<html><body><h1>502 Bad Gateway</h1></body></html>' };
    const key = outcome.key === 'method' && method ? `${method.replaceAll('.', '_')}_response` : 'error_response';
    return { text: this.respond(key, outcome.inner, signType === 'RSA' ? 'RSA' : 'RSA2') };
  }

  /** The delay to apply before answering a server-side call (faults). */
  get delayMs(): number {
    return this.faults.delayMs ?? 0;
  }

  /** The legacy id: 16 digits starting 2088, the same for the person in every app. */
  userId(user: SandboxUser): string {
    const digits =
      BigInt(`0x${createHash('sha256').update(`alipay:${user.key}`).digest('hex').slice(0, 15)}`) % 1_000_000_000_000n;
    return `2088${digits.toString().padStart(12, '0')}`;
  }

  /** The OpenID-mode id: per app (the same person in another app has another), ~47 characters. */
  openId(appId: string, user: SandboxUser): string {
    const base = createHash('sha512')
      .update(`${appId}:${user.key}`)
      .digest('base64')
      .replace(/[^A-Za-z0-9]/g, '');
    return `0${base.slice(0, 46)}`;
  }

  /** Common checks, the signature, then the method; the outcome before faults other than `malformed`. */
  private dispatch(params: Record<string, unknown>, method: string | null): Outcome {
    const missing = (['app_id', 'method', 'sign_type', 'sign', 'timestamp', 'version'] as const).find(
      (name) => str(params[name]) === null,
    );
    if (missing) {
      const sub = {
        app_id: 'isv.missing-app-id',
        method: 'isv.missing-method',
        sign_type: 'isv.missing-signature-type',
        sign: 'isv.missing-signature',
        timestamp: 'isv.missing-timestamp',
        version: 'isv.missing-version',
      }[missing];
      return errorOf(sub, `缺少必选参数 ${missing}`, method ? 'method' : 'error_response');
    }
    if (method !== 'alipay.system.oauth.token' && method !== 'alipay.user.info.share')
      return errorOf('isv.invalid-method', '不存在的方法名', 'error_response');
    if (str(params.app_id) !== this.app.appId) return errorOf('isv.invalid-app-id', '无效的AppID参数');
    const signType = str(params.sign_type)!;
    if (!ALGORITHMS[signType]) return errorOf('isv.invalid-signature-type', '无效的签名类型');
    const charset = str(params.charset)?.toLowerCase() ?? 'utf-8';
    if (charset !== 'utf-8' && charset !== 'utf8')
      return errorOf('isv.invalid-charset', '字符集错误 (the sandbox reads utf-8 only)');
    const format = str(params.format);
    if (format !== null && format.toUpperCase() !== 'JSON') return errorOf('isv.invalid-format', '参数格式错误');
    if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(str(params.timestamp)!))
      return errorOf('isv.invalid-timestamp', '非法的时间戳参数');
    const signed = stringToSign(params);
    if (!this.verifiesRequest(signed, str(params.sign)!, signType)) {
      // Real Alipay echoes the string it built: the clue to what the client signed differently.
      return errorOf(
        'isv.invalid-signature',
        `验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：${signed}`,
      );
    }
    return method === 'alipay.system.oauth.token' ? this.oauthToken(params) : this.userInfoShare(params);
  }

  /** A2a `alipay.system.oauth.token`. */
  private oauthToken(params: Record<string, unknown>): Outcome {
    const grantType = str(params.grant_type);
    if (grantType === 'authorization_code') {
      const code = str(params.code);
      const issued = code ? this.codes.get(code) : undefined;
      // Burnt by its first exchange, whatever the outcome (PROVIDERS.md §2.4).
      const usable =
        issued !== undefined &&
        !issued.used &&
        this.clock.now() < issued.expiresAt &&
        issued.appId === str(params.app_id);
      if (issued) issued.used = true;
      const fault = this.fault();
      if (fault) return fault;
      if (!usable) return errorOf('isv.code-invalid', '授权码code无效', 'error_response');
      return { key: 'method', inner: this.issueTokens(issued.appId, issued.user) };
    }
    if (grantType === 'refresh_token') {
      const held = this.refreshTokens.get(str(params.refresh_token) ?? '');
      const fault = this.fault();
      if (fault) return fault;
      if (!held || held.used)
        return errorOf('isv.refresh-token-invalid', '刷新令牌refresh_token无效', 'error_response');
      if (this.clock.now() >= held.expiresAt)
        return errorOf('isv.refresh-token-time-out', '刷新令牌refresh_token过期', 'error_response');
      held.used = true;
      return { key: 'method', inner: this.issueTokens(held.appId, held.user) };
    }
    return this.fault() ?? errorOf('isv.grant-type-invalid', 'grant_type参数不正确', 'error_response');
  }

  /** A2b `alipay.user.info.share`. */
  private userInfoShare(params: Record<string, unknown>): Outcome {
    const fault = this.fault();
    if (fault) return fault;
    const held = this.tokens.get(str(params.auth_token) ?? '');
    if (!held || held.appId !== str(params.app_id)) return errorOf('aop.invalid-auth-token', '无效的访问令牌');
    if (this.clock.now() >= held.expiresAt) return errorOf('aop.auth-token-time-out', '访问令牌已过期');
    return {
      key: 'method',
      inner: {
        code: '10000',
        msg: 'Success',
        avatar: held.user.avatarUrl,
        nick_name: held.user.nickname,
        ...this.idOf(held.appId, held.user),
      },
    };
  }

  private issueTokens(appId: string, user: SandboxUser): Inner {
    const now = this.clock.now();
    const accessToken = `authusrB${createHash('sha256').update(this.crypto.randomToken(24)).digest('hex').slice(0, 32)}`;
    const refreshToken = `authusrB${createHash('sha256').update(this.crypto.randomToken(24)).digest('hex').slice(0, 32)}`;
    this.tokens.set(accessToken, { appId, user, expiresAt: now + ACCESS_TOKEN_TTL_S * 1000 });
    this.refreshTokens.set(refreshToken, { appId, user, expiresAt: now + REFRESH_TOKEN_TTL_S * 1000, used: false });
    // Lifetimes as numbers, as real answers have them (PROVIDERS.md §2.8).
    return {
      access_token: accessToken,
      auth_start: new Date(now + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' '),
      expires_in: ACCESS_TOKEN_TTL_S,
      re_expires_in: REFRESH_TOKEN_TTL_S,
      refresh_token: refreshToken,
      ...this.idOf(appId, user),
    };
  }

  private idOf(appId: string, user: SandboxUser): Inner {
    return this.idMode === 'open_id' ? { open_id: this.openId(appId, user) } : { user_id: this.userId(user) };
  }

  private fault(): Outcome | null {
    if (this.faults.subCode) {
      const subCode = this.faults.subCode;
      return errorOf(subCode, 'injected by the sandbox', subCode === 'isv.code-invalid' ? 'error_response' : 'method');
    }
    return null;
  }

  /**
   * The body by string concatenation around the exact inner text that is
   * signed (PROVIDERS.md §2.7); `/` escaped as Alipay does, in the signed text
   * too. `sign` always, also on errors, unless a fault removes or spoils it.
   */
  private respond(key: string, inner: Inner, signType: 'RSA2' | 'RSA'): string {
    const text = JSON.stringify(inner).replace(/\//g, '\\/');
    if (this.faults.unsigned) return `{"${key}":${text}}`;
    const signer = this.faults.wrongSignature ? this.strangerKey() : this.alipayPrivateKeyPem;
    const sign = createSign(ALGORITHMS[signType]!).update(text, 'utf8').sign(signer, 'base64');
    return `{"${key}":${text},"sign":"${sign}"}`;
  }

  private verifiesRequest(signed: string, sign: string, signType: string): boolean {
    try {
      return createVerify(ALGORITHMS[signType]!).update(signed, 'utf8').verify(this.appPublicKeyPem, sign, 'base64');
    } catch {
      return false;
    }
  }

  /** A key that is not Alipay's (made on first use: key generation is slow). */
  private strangerKey(): string {
    this.strangerKeyPem ??= rsaKeyPair().privateKey;
    return this.strangerKeyPem;
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [code, c] of this.codes) if (now >= c.expiresAt) this.codes.delete(code);
    for (const [token, t] of this.tokens) if (now >= t.expiresAt) this.tokens.delete(token);
    for (const [token, t] of this.refreshTokens) if (now >= t.expiresAt) this.refreshTokens.delete(token);
  }
}

/**
 * PROVIDERS.md §2.6, written here independently of any client: every
 * parameter that arrived except `sign` and the empty ones, sorted by key,
 * `key=value` with raw values, joined by `&`.
 */
function stringToSign(params: Record<string, unknown>): string {
  return Object.keys(params)
    .filter((key) => key !== 'sign' && typeof params[key] === 'string' && params[key] !== '')
    .sort()
    .map((key) => `${key}=${params[key] as string}`)
    .join('&');
}

type RsaPems = { privateKey: string; publicKey: string };
const RSA_OPTIONS = {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
} as const;

function rsaKeyPair(): RsaPems {
  return generateKeyPairSync('rsa', RSA_OPTIONS);
}

/** The same, off the event loop (start-up makes two while the rest of the app initialises). */
function rsaKeyPairAsync(): Promise<RsaPems> {
  return promisify(generateKeyPair)('rsa', RSA_OPTIONS);
}
