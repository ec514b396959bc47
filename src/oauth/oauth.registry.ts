import { Inject, Injectable, Optional } from '@nestjs/common';
import { Clock } from '../common/index.js';
import { OAuthError } from './oauth.errors.js';

import { OAUTH_CONFIG, type OAuthConfig, type OAuthProviderId } from '../config/index.js';
import type { OAuthProvider, ProviderDefinition } from './oauth-provider.js';
import { PLUGGED_PROVIDER_SETTINGS, type ProviderSettings, type ProviderSettingsById } from './provider-settings.js';
import { ALIPAY } from './providers/alipay/alipay.provider.js';
import { DINGTALK } from './providers/dingtalk/dingtalk.provider.js';
import { WECHAT } from './providers/wechat/wechat.provider.js';
import { UpstreamHttp } from './upstream.http.js';

/** Any provider's definition, as the registry handles them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProviderDefinition = ProviderDefinition<any>;

/** Every provider ScanGate knows, in display order: adding one is one line here (and its folder). */
export const PROVIDERS: readonly AnyProviderDefinition[] = [WECHAT, ALIPAY, DINGTALK];

/** The providers the registry offers: `PROVIDERS` (a plug-in or a test may provide a longer list). */
export const PROVIDER_DEFINITIONS = Symbol('PROVIDER_DEFINITIONS');

export interface ProviderListing {
  id: OAuthProviderId;
  name: string;
  names: OAuthProvider['names'];
  enabled: boolean;
  /** Served by its sandbox (development), not the real platform. */
  sandbox: boolean;
}

/**
 * The enabled providers: those with credentials in the configuration, and the
 * others a plug-in gives settings for (in development, the sandboxes). Unknown
 * or disabled ones are `oauth.provider_disabled`, alike.
 */
@Injectable()
export class OAuthRegistry {
  private readonly enabled = new Map<
    OAuthProviderId,
    { provider: OAuthProvider; settings: ProviderSettings; definition: AnyProviderDefinition }
  >();
  private readonly sandboxed = new Set<OAuthProviderId>();

  constructor(
    @Inject(OAUTH_CONFIG) config: OAuthConfig,
    http: UpstreamHttp,
    clock: Clock,
    @Inject(PROVIDER_DEFINITIONS) private readonly definitions: readonly AnyProviderDefinition[],
    @Optional() @Inject(PLUGGED_PROVIDER_SETTINGS) plugged: ProviderSettingsById | null = null,
  ) {
    for (const definition of definitions) {
      const { id } = definition;
      const settings = config[id] ?? plugged?.[id];
      if (!settings) continue;
      this.enabled.set(id, { provider: definition.build(settings, { http, clock }), settings, definition });
      if (!config[id]) this.sandboxed.add(id);
    }
  }

  list(language: 'en' | 'zh-CN'): ProviderListing[] {
    return this.definitions.map(({ id, names }) => ({
      id,
      name: names[language],
      names,
      enabled: this.enabled.has(id),
      sandbox: this.sandboxed.has(id),
    }));
  }

  get(id: string): OAuthProvider {
    const found = this.enabled.get(id as OAuthProviderId);
    if (!found) throw new OAuthError('oauth.provider_disabled', 'This sign-in provider is not available here.');
    return found.provider;
  }

  /** An enabled provider's settings as operators may see them (secrets masked); null when disabled. */
  viewOf(id: OAuthProviderId): Record<string, unknown> | null {
    const found = this.enabled.get(id);
    return found ? found.definition.view(found.settings) : null;
  }

  /** Every secret in an enabled provider's settings (to scrub from text that leaves the server); none when disabled. */
  secretsOf(id: OAuthProviderId): string[] {
    const found = this.enabled.get(id);
    return found ? found.definition.secrets(found.settings) : [];
  }
}
