import type { Clock } from '../common/index.js';
import type { OAuthProviderId } from '../config/index.js';
import type { UpstreamHttp } from './upstream.http.js';

/**
 * Why a provider refused or failed, whatever its own codes (each provider maps
 * its documented errors onto these). The core turns them into the protocol's
 * codes: `code_invalid` → `oauth.code_invalid` (401); the rest → `oauth.upstream`
 * (502), with the reason logged.
 */
export type OAuthFailure =
  /** The code is unknown, used, expired or another app's: the user starts again. */
  | 'code_invalid'
  /** Our credentials are refused (wrong secret, app not authorised, bad signature): an operator's problem. */
  | 'app_invalid'
  /** The provider did not answer in time, failed, or answered something malformed or unsigned. */
  | 'upstream'
  /** The user is not allowed (e.g. not a member of the configured DingTalk organisation). */
  | 'not_allowed';

export class OAuthProviderError extends Error {
  constructor(
    readonly failure: OAuthFailure,
    message: string,
    /** The provider's own code (`40029`, `isv.code-invalid`, …), for logs; never a secret. */
    readonly providerCode?: string,
  ) {
    super(message);
    this.name = 'OAuthProviderError';
  }
}

/** Who signed in, as the provider says, normalised. */
export interface OAuthProfile {
  /** The provider's stable id for the person (its cross-app id when it gives one). */
  subject: string;
  /** Which id `subject` is: `unionid`, `openid`, `open_id`, `user_id`, `unionId`. */
  subjectKind: string;
  displayName: string | null;
  avatarUrl: string | null;
  /** Non-secret profile fields kept with the identity (never a token). */
  profile: Record<string, unknown>;
}

/** What the callback carries, in the provider's own parameter names. */
export interface OAuthCallback {
  /** Null when the user did not approve (or the provider sent none). */
  code: string | null;
  state: string | null;
}

/**
 * One third-party login provider. It knows its wire protocol only: the core
 * owns state, cookies, redirects, account linking and error mapping. Adding a
 * provider is its folder (its class, schemas, definition, sandbox), its
 * configuration entry (`config/oauth-providers.env.ts`) and one line in the
 * registry.
 */
export interface OAuthProvider {
  readonly id: OAuthProviderId;
  readonly names: { en: string; 'zh-CN': string };
  /** The provider's QR/authorization page for this `state`, coming back to `redirectUri`. */
  authorizationUrl(input: { state: string; redirectUri: string }): string;
  /** The code and state of a callback's query. */
  readCallback(query: Record<string, unknown>): OAuthCallback;
  /** Exchanges the code (server to server) and fetches the profile. Throws `OAuthProviderError`. */
  profile(code: string, redirectUri: string): Promise<OAuthProfile>;
}

/** What a provider may need besides its settings. */
interface ProviderDeps {
  http: UpstreamHttp;
  clock: Clock;
}

/**
 * A provider as the registry knows it, exported by the provider's folder and
 * listed once in the registry: its id and names, how to build it from its
 * settings, and how operators may see those settings.
 */
export interface ProviderDefinition<S = never> {
  id: OAuthProviderId;
  names: OAuthProvider['names'];
  build(settings: S, deps: ProviderDeps): OAuthProvider;
  /**
   * The settings for the admin API: ids and URLs in clear, every secret
   * masked (`maskSecret`). Built field by field, so a secret added to the
   * settings later never shows up until someone decides how to show it.
   */
  view(settings: S): Record<string, unknown>;
  /** Every secret value in the settings (scrubbed from any text that leaves the server). */
  secrets(settings: S): string[];
}
