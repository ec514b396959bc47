import { createHash } from 'node:crypto';
import type { Clock, CryptoService } from '../../common/index.js';

import { hostOf, PendingAuthorizations, str } from '../pending-authorizations.js';
import { SANDBOX_USERS, type SandboxUser } from '../sandbox-users.js';

/** PROVIDERS.md §1.12: a code lives 10 minutes and is exchanged once; an access token 7200 s. */
const CODE_TTL_MS = 10 * 60_000;
const ACCESS_TOKEN_TTL_S = 7_200;

export interface WechatApp {
  appId: string;
  appSecret: string;
  /** The "authorization callback domain" registered for the app: redirect_uri's host must equal it. */
  callbackHost: string;
}

/** Faults a test can inject into the server-side endpoints (W6, W9). */
export interface WechatFaults {
  /** Answer this late (past the client's timeout, to prove it gives up). */
  delayMs?: number;
  /** Answer a body that is not JSON. */
  malformed?: boolean;
  /** Answer this errcode instead of the real outcome. */
  errcode?: number;
}

type Body = Record<string, unknown>;
const err = (errcode: number, errmsg: string): Body => ({ errcode, errmsg: `${errmsg}, rid: sandbox` });

/**
 * The WeChat Open Platform as PROVIDERS.md §1 describes it, in memory: the
 * `qrconnect` page's pending authorizations, single-use codes bound to the app
 * (10 minutes), access tokens (7200 s), and the documented error codes. One
 * registered website app; openids per app, unionids per person.
 */
export class WechatSandbox {
  readonly app: WechatApp;
  faults: WechatFaults = {};
  private readonly pending: PendingAuthorizations<{ appId: string }>;
  private readonly codes = new Map<
    string,
    { appId: string; user: SandboxUser; redirectUri: string; expiresAt: number; used: boolean }
  >();
  private readonly tokens = new Map<string, { appId: string; user: SandboxUser; expiresAt: number }>();

  constructor(
    private readonly crypto: CryptoService,
    private readonly clock: Clock,
    callbackHost: string,
  ) {
    this.pending = new PendingAuthorizations(crypto, clock);
    this.app = {
      appId: `wx${crypto
        .randomToken(12)
        .replace(/[^A-Za-z0-9]/g, '0')
        .slice(0, 16)
        .toLowerCase()}`,
      appSecret: crypto.randomToken(24),
      callbackHost,
    };
  }

  /** W1: checks the request as WeChat does; a pending authorization (its uuid) or the error page's text. */
  open(query: Record<string, unknown>): { uuid: string } | { error: string } {
    const appid = str(query.appid);
    const scope = str(query.scope);
    const redirectUri = str(query.redirect_uri);
    if (appid !== this.app.appId) return { error: 'AppID 参数错误 (appid is not a registered website application)' };
    if (!scope?.split(',').includes('snsapi_login'))
      return { error: 'Scope 参数错误或没有 Scope 权限 (scope must include snsapi_login)' };
    if (!redirectUri || hostOf(redirectUri) !== this.app.callbackHost)
      return { error: 'redirect_uri 参数错误 (its host is not the registered callback domain)' };
    const state = str(query.state);
    if (state !== null && (state.length > 128 || !/^[A-Za-z0-9_-]*$/.test(state))) return { error: 'state 参数错误' };
    this.sweep();
    return { uuid: this.pending.open({ appId: appid, redirectUri, state }) };
  }

  /** The page's view of a pending authorization (null: unknown or expired). */
  status(uuid: string): { waiting: true } | { cancelled: true } | { redirect: string } | null {
    const p = this.pending.get(uuid);
    if (!p) return null;
    if (p.decision === null) return { waiting: true };
    if (p.decision === 'refused') return { cancelled: true };
    const url = new URL(p.redirectUri);
    url.searchParams.set('code', p.decision.code);
    if (p.state !== null) url.searchParams.set('state', p.state);
    this.pending.close(uuid);
    return { redirect: url.toString() };
  }

  /** The phone approves (a code for `userKey`) or cancels (nothing is sent back: PROVIDERS.md §1.6). */
  decide(uuid: string, decision: 'approve' | 'cancel', userKey: string): boolean {
    const p = this.pending.get(uuid);
    const user = SANDBOX_USERS.find((u) => u.key === userKey);
    if (!p || !this.pending.waiting(uuid) || !user) return false;
    if (decision === 'cancel') return this.pending.decide(uuid, 'refused');
    const code = this.crypto
      .randomToken(24)
      .replace(/[^A-Za-z0-9]/g, 'x')
      .slice(0, 32);
    this.codes.set(code, {
      appId: p.appId,
      user,
      redirectUri: p.redirectUri,
      expiresAt: this.clock.now() + CODE_TTL_MS,
      used: false,
    });
    return this.pending.decide(uuid, { code });
  }

  /** W6 `sns/oauth2/access_token`. */
  accessToken(query: Record<string, unknown>): Body {
    const fault = this.fault();
    if (fault) return fault;
    const [appid, secret, code, grantType] = [
      str(query.appid),
      str(query.secret),
      str(query.code),
      str(query.grant_type),
    ];
    if (!appid) return err(41002, 'appid missing');
    if (!secret) return err(41004, 'appsecret missing');
    if (!code) return err(41008, 'missing code');
    if (appid !== this.app.appId) return err(40013, 'invalid appid');
    if (secret !== this.app.appSecret) return err(40125, 'invalid appsecret');
    if (grantType !== 'authorization_code') return err(40002, 'invalid grant_type');
    const issued = this.codes.get(code);
    if (!issued || issued.appId !== appid) return err(40029, 'invalid code');
    if (issued.used) return err(40163, 'code been used');
    if (this.clock.now() >= issued.expiresAt) return err(42003, 'code expired');
    issued.used = true;
    const accessToken = this.crypto.randomToken(32);
    this.tokens.set(accessToken, {
      appId: appid,
      user: issued.user,
      expiresAt: this.clock.now() + ACCESS_TOKEN_TTL_S * 1000,
    });
    return {
      access_token: accessToken,
      expires_in: ACCESS_TOKEN_TTL_S,
      refresh_token: this.crypto.randomToken(32),
      openid: this.openid(appid, issued.user),
      scope: 'snsapi_login',
      unionid: issued.user.unionid,
    };
  }

  /** W9 `sns/userinfo`. */
  userInfo(query: Record<string, unknown>): Body {
    const fault = this.fault();
    if (fault) return fault;
    const token = str(query.access_token);
    if (!token) return err(41001, 'access_token missing');
    const held = this.tokens.get(token);
    if (!held) return err(40001, 'invalid credential, access_token is invalid or not latest');
    if (this.clock.now() >= held.expiresAt) return err(42001, 'access_token expired');
    if (str(query.openid) !== this.openid(held.appId, held.user)) return err(40003, 'invalid openid');
    return {
      openid: this.openid(held.appId, held.user),
      nickname: held.user.nickname,
      sex: 0,
      language: str(query.lang) ?? 'en',
      city: '',
      province: '',
      country: '',
      headimgurl: held.user.avatarUrl,
      privilege: [],
      unionid: held.user.unionid,
    };
  }

  /** The delay to apply before answering a server-side call (faults). */
  get delayMs(): number {
    return this.faults.delayMs ?? 0;
  }

  /** A per-app user id, as WeChat's openids are (the same person in another app has another). */
  openid(appId: string, user: SandboxUser): string {
    return `o${createHash('sha256').update(`${appId}:${user.key}`).digest('base64url').slice(0, 27)}`;
  }

  private fault(): Body | null {
    if (this.faults.malformed) return { malformed: true };
    if (this.faults.errcode !== undefined) return err(this.faults.errcode, 'injected by the sandbox');
    return null;
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [code, c] of this.codes) if (now >= c.expiresAt) this.codes.delete(code);
    for (const [token, t] of this.tokens) if (now >= t.expiresAt) this.tokens.delete(token);
  }
}
