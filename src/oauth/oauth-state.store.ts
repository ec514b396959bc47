import { Inject, Injectable } from '@nestjs/common';
import { Clock, CryptoService } from '../common/index.js';
import { OAuthError } from './oauth.errors.js';

import type { OAuthProviderId } from '../config/index.js';
import { STORE, type Store } from '../store/index.js';

/** How long a started login may take (the provider's QR page, the scan, the approval). */
export const OAUTH_STATE_TTL_MS = 10 * 60_000;
/** A browser key (cookie) or a state: 32 random bytes, base64url. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export type OAuthMode = 'login' | 'link' | 'reauth';

/** What a started login remembers until its callback. */
export interface OAuthStart {
  provider: OAuthProviderId;
  /**
   * `login` signs in (or up); `link` adds the identity to `userId`; `reauth`
   * re-proves `sessionId` through an identity already linked to `userId`.
   */
  mode: OAuthMode;
  userId: string | null;
  /** The signed-in session that started a `link` or `reauth` (checked again at the callback). */
  sessionId: string | null;
  /** Validated where it was given (same-origin path or allowed origin). */
  returnTo: string;
  /** Epoch ms. */
  startedAt: number;
}

interface StoredStart extends OAuthStart {
  /** SHA-256 (base64url) of the browser key the start was bound to. */
  browser: string;
}

/**
 * The `state` of third-party logins: random, one-time, kept only as a hash in
 * the shared store for 10 minutes, and bound to the browser that started the
 * login by an HttpOnly cookie holding a browser key (one per browser, so tabs
 * may run logins side by side). Taking a state deletes it, whatever comes of
 * it: a replayed, unknown, expired, other-provider or other-browser state is
 * `oauth.state_invalid`, all alike.
 */
@Injectable()
export class OAuthStateStore {
  constructor(
    @Inject(STORE) private readonly store: Store,
    private readonly crypto: CryptoService,
    private readonly clock: Clock,
  ) {}

  /** A browser key: the one the browser already holds when well-formed, else a new one. */
  browserKey(existing: string | undefined): string {
    return existing && TOKEN.test(existing) ? existing : this.crypto.randomToken(32);
  }

  /** A new state for `start`, bound to `browserKey`. */
  async issue(start: Omit<OAuthStart, 'startedAt'>, browserKey: string): Promise<string> {
    const state = this.crypto.randomToken(32);
    const stored: StoredStart = { ...start, startedAt: this.clock.now(), browser: this.hash(browserKey) };
    await this.store.set(this.key(state), JSON.stringify(stored), OAUTH_STATE_TTL_MS);
    return state;
  }

  /** The start of `state`, once: only for the browser and provider it was issued to. */
  async take(state: unknown, browserKey: string | undefined, provider: OAuthProviderId): Promise<OAuthStart> {
    if (typeof state !== 'string' || !TOKEN.test(state)) throw invalid();
    const raw = await this.store.take(this.key(state));
    if (raw === null) throw invalid();
    const { browser, ...start } = JSON.parse(raw) as StoredStart;
    const presented = Buffer.from(this.hash(browserKey && TOKEN.test(browserKey) ? browserKey : '\u0000'), 'base64url');
    const sameBrowser = this.crypto.equal(presented, Buffer.from(browser, 'base64url'));
    if (!sameBrowser || start.provider !== provider) throw invalid();
    return start;
  }

  private key(state: string): string {
    return `oauth:state:${this.hash(state)}`;
  }

  private hash(value: string): string {
    return this.crypto.sha256(value).toString('base64url');
  }
}

function invalid(): OAuthError {
  return new OAuthError('oauth.state_invalid');
}
