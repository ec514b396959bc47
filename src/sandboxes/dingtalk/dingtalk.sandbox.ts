import { createHash } from 'node:crypto';
import type { Clock, CryptoService } from '../../common/index.js';

import { hostOf, PendingAuthorizations, str } from '../pending-authorizations.js';
import { SANDBOX_USERS, type SandboxUser } from '../sandbox-users.js';

/** PROVIDERS.md §3.5–3.6: an authCode is single use (5 minutes assumed); an access token lives 7200 s. */
const CODE_TTL_MS = 5 * 60_000;
const ACCESS_TOKEN_TTL_S = 7_200;
/** The organisation every sandbox person belongs to, except the last one (to prove the corpId restriction). */
export const DINGTALK_SANDBOX_CORP = 'dingsandboxcorp0001';
const DINGTALK_OTHER_CORP = 'dingothercorp0002';

export interface DingtalkApp {
  clientId: string;
  clientSecret: string;
  /** Redirect URLs registered for the app: redirect_uri's host must be this one. */
  callbackHost: string;
}

export interface DingtalkFaults {
  delayMs?: number;
  malformed?: boolean;
  /** Answer this HTTP status and error code instead of the real outcome. */
  error?: { status: number; code: string };
}

export interface DingtalkAnswer {
  status: number;
  body: Record<string, unknown>;
}

const fail = (status: number, code: string, message: string): DingtalkAnswer => ({
  status,
  body: { code, message, requestid: 'sandbox' },
});

/**
 * DingTalk's new OAuth2 login as PROVIDERS.md §3 describes it, in memory: the
 * `oauth2/auth` page's pending authorizations, single-use authCodes, access
 * tokens, JSON-only camelCase token requests and 4xx `{ code, message }` errors.
 */
export class DingtalkSandbox {
  readonly app: DingtalkApp;
  faults: DingtalkFaults = {};
  private readonly pending: PendingAuthorizations;
  private readonly codes = new Map<string, { user: SandboxUser; corpId: string; expiresAt: number; used: boolean }>();
  private readonly tokens = new Map<string, { user: SandboxUser; expiresAt: number }>();

  constructor(
    private readonly crypto: CryptoService,
    private readonly clock: Clock,
    callbackHost: string,
  ) {
    this.pending = new PendingAuthorizations(crypto, clock);
    this.app = {
      clientId: `ding${crypto
        .randomToken(9)
        .replace(/[^A-Za-z0-9]/g, '0')
        .toLowerCase()}`,
      clientSecret: crypto.randomToken(32),
      callbackHost,
    };
  }

  /** D1: checks the request; a pending authorization or the error page's text. */
  open(query: Record<string, unknown>): { uuid: string } | { error: string } {
    const redirectUri = str(query.redirect_uri);
    if (str(query.client_id) !== this.app.clientId)
      return { error: '应用不存在 (client_id is not a registered application)' };
    if (str(query.response_type) !== 'code') return { error: 'response_type must be code' };
    if (!str(query.scope)?.split(' ').includes('openid')) return { error: 'scope must include openid' };
    if (!redirectUri || hostOf(redirectUri) !== this.app.callbackHost)
      return { error: 'redirect_uri 不合法 (not a registered redirect URL)' };
    this.sweep();
    return { uuid: this.pending.open({ redirectUri, state: str(query.state) }) };
  }

  status(uuid: string): { waiting: true } | { redirect: string } | null {
    const p = this.pending.get(uuid);
    if (!p) return null;
    if (p.decision === null) return { waiting: true };
    const url = new URL(p.redirectUri);
    if (p.decision === 'refused') url.searchParams.set('error', 'access_denied');
    else {
      // Documented authCode; observed code with the same value (PROVIDERS.md §3.5): both.
      url.searchParams.set('authCode', p.decision.code);
      url.searchParams.set('code', p.decision.code);
    }
    if (p.state !== null) url.searchParams.set('state', p.state);
    this.pending.close(uuid);
    return { redirect: url.toString() };
  }

  decide(uuid: string, decision: 'approve' | 'decline', userKey: string): boolean {
    const index = SANDBOX_USERS.findIndex((u) => u.key === userKey);
    if (!this.pending.waiting(uuid) || index < 0) return false;
    if (decision === 'decline') return this.pending.decide(uuid, 'refused');
    const code = createHash('sha256').update(this.crypto.randomToken(16)).digest('hex');
    const corpId = index === SANDBOX_USERS.length - 1 ? DINGTALK_OTHER_CORP : DINGTALK_SANDBOX_CORP;
    this.codes.set(code, {
      user: SANDBOX_USERS[index]!,
      corpId,
      expiresAt: this.clock.now() + CODE_TTL_MS,
      used: false,
    });
    return this.pending.decide(uuid, { code });
  }

  /** D3: `body` as parsed JSON, or null when the request was not JSON (DingTalk refuses forms). */
  userAccessToken(body: Record<string, unknown> | null): DingtalkAnswer {
    const fault = this.fault();
    if (fault) return fault;
    if (!body) return fail(400, 'MissingParameter', 'body is mandatory');
    const [clientId, clientSecret, code, grantType] = [
      str(body.clientId),
      str(body.clientSecret),
      str(body.code),
      str(body.grantType),
    ];
    if (!clientId || !clientSecret || !grantType)
      return fail(400, 'MissingParameter', 'clientId, clientSecret and grantType are mandatory');
    if (clientId !== this.app.clientId) return fail(400, 'invalidClientId', '不合法的clientId');
    if (clientSecret !== this.app.clientSecret) return fail(400, 'invalidClientSecret', '不合法的clientSecret');
    if (grantType !== 'authorization_code') return fail(400, 'invalidParameter.grantType', 'grantType 不合法');
    const issued = code ? this.codes.get(code) : undefined;
    if (!issued || issued.used || this.clock.now() >= issued.expiresAt)
      return fail(400, 'invalidParameter.authCode.notFound', '不合法的临时授权码');
    issued.used = true;
    const accessToken = createHash('sha256').update(this.crypto.randomToken(16)).digest('hex').slice(0, 32);
    this.tokens.set(accessToken, { user: issued.user, expiresAt: this.clock.now() + ACCESS_TOKEN_TTL_S * 1000 });
    return {
      status: 200,
      body: {
        accessToken,
        refreshToken: this.crypto.randomToken(16),
        expireIn: ACCESS_TOKEN_TTL_S,
        corpId: issued.corpId,
      },
    };
  }

  /** D4. */
  me(accessToken: string | undefined): DingtalkAnswer {
    const fault = this.fault();
    if (fault) return fault;
    const held = accessToken ? this.tokens.get(accessToken) : undefined;
    if (!held || this.clock.now() >= held.expiresAt) return fail(400, 'InvalidAuthentication', '不合法的access_token');
    const { user } = held;
    return {
      status: 200,
      body: {
        nick: user.nickname,
        avatarUrl: user.avatarUrl,
        openId: createHash('sha256').update(`${this.app.clientId}:${user.key}`).digest('base64url').slice(0, 24),
        unionId: `${user.unionid}dt`,
        stateCode: '86',
      },
    };
  }

  get delayMs(): number {
    return this.faults.delayMs ?? 0;
  }

  private fault(): DingtalkAnswer | null {
    if (this.faults.malformed) return { status: 200, body: { malformed: true } };
    if (this.faults.error) return fail(this.faults.error.status, this.faults.error.code, 'injected by the sandbox');
    return null;
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [code, c] of this.codes) if (now >= c.expiresAt) this.codes.delete(code);
    for (const [token, t] of this.tokens) if (now >= t.expiresAt) this.tokens.delete(token);
  }
}
