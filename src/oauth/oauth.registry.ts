import { Inject, Injectable, Optional } from '@nestjs/common';
import { Clock } from '../common/index.js';
import { OAuthError } from './oauth.errors.js';

import { OAUTH_CONFIG, type OAuthConfig, type OAuthProviderId } from '../config/index.js';
import type { OAuthProvider } from './oauth-provider.js';
import { PLUGGED_PROVIDER_SETTINGS, type ProviderSettings, type ProviderSettingsById } from './provider-settings.js';
import { AlipayProvider } from './providers/alipay/alipay.provider.js';
import { DingtalkProvider } from './providers/dingtalk/dingtalk.provider.js';
import { WechatProvider } from './providers/wechat/wechat.provider.js';
import { UpstreamHttp } from './upstream.http.js';

/** What a provider may need besides its settings. */
interface ProviderDeps {
  http: UpstreamHttp;
  clock: Clock;
}

/** One provider as the registry knows it: its id, its names, and how to build it from its settings. */
interface ProviderEntry<K extends OAuthProviderId> {
  id: K;
  names: OAuthProvider['names'];
  build: (settings: NonNullable<ProviderSettingsById[K]>, deps: ProviderDeps) => OAuthProvider;
}
const entry = <K extends OAuthProviderId>(e: ProviderEntry<K>): ProviderEntry<OAuthProviderId> =>
  e as unknown as ProviderEntry<OAuthProviderId>;

/** Every provider ScanGate knows, in display order: adding one is one line here (and its folder). */
const PROVIDERS: ProviderEntry<OAuthProviderId>[] = [
  entry({ id: 'wechat', names: WechatProvider.names, build: (s, d) => new WechatProvider(s, d.http) }),
  entry({ id: 'alipay', names: AlipayProvider.names, build: (s, d) => new AlipayProvider(s, d.http, d.clock) }),
  entry({ id: 'dingtalk', names: DingtalkProvider.names, build: (s, d) => new DingtalkProvider(s, d.http) }),
];

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
  private readonly enabled = new Map<OAuthProviderId, { provider: OAuthProvider; settings: ProviderSettings }>();
  private readonly sandboxed = new Set<OAuthProviderId>();

  constructor(
    @Inject(OAUTH_CONFIG) config: OAuthConfig,
    http: UpstreamHttp,
    clock: Clock,
    @Optional() @Inject(PLUGGED_PROVIDER_SETTINGS) plugged: ProviderSettingsById | null = null,
  ) {
    for (const { id, build } of PROVIDERS) {
      const settings = config[id] ?? plugged?.[id];
      if (!settings) continue;
      this.enabled.set(id, { provider: build(settings, { http, clock }), settings });
      if (!config[id]) this.sandboxed.add(id);
    }
  }

  list(language: 'en' | 'zh-CN'): ProviderListing[] {
    return PROVIDERS.map(({ id, names }) => ({
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

  /** The settings an enabled provider was built from (configured, or plugged in), for operators' views; null when disabled. */
  settingsOf(id: OAuthProviderId): ProviderSettings | null {
    return this.enabled.get(id)?.settings ?? null;
  }
}
