import { Inject, Injectable } from '@nestjs/common';
import { Clock, AppError } from '../common/index.js';

import { OAUTH_CONFIG, type OAuthConfig, type OAuthProviderId } from '../config/index.js';
import { SANDBOX_PROVIDERS, type SandboxProviders } from '../sandboxes/index.js';
import type { OAuthProvider } from './oauth-provider.js';
import { AlipayProvider } from './providers/alipay/alipay.provider.js';
import { DingtalkProvider } from './providers/dingtalk/dingtalk.provider.js';
import { WechatProvider } from './providers/wechat/wechat.provider.js';
import { UpstreamHttp } from './upstream.http.js';

/** Every provider ScanGate knows, in display order: adding one is one line here (and its folder). */
/** What a provider may need besides its settings. */
interface ProviderDeps {
  http: UpstreamHttp;
  clock: Clock;
}

const PROVIDERS: Array<{
  id: OAuthProviderId;
  names: OAuthProvider['names'];
  build: (config: OAuthConfig, sandboxes: SandboxProviders, deps: ProviderDeps) => OAuthProvider | null;
}> = [
  {
    id: 'wechat',
    names: WechatProvider.names,
    build: (c, s, d) => ((c.wechat ?? s.wechat) ? new WechatProvider((c.wechat ?? s.wechat)!, d.http) : null),
  },
  {
    id: 'alipay',
    names: AlipayProvider.names,
    build: (c, s, d) => ((c.alipay ?? s.alipay) ? new AlipayProvider((c.alipay ?? s.alipay)!, d.http, d.clock) : null),
  },
  {
    id: 'dingtalk',
    names: DingtalkProvider.names,
    build: (c, s, d) => ((c.dingtalk ?? s.dingtalk) ? new DingtalkProvider((c.dingtalk ?? s.dingtalk)!, d.http) : null),
  },
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
 * The enabled providers: those with credentials, and (in development) the
 * others through their sandboxes. Unknown or disabled ones are
 * `oauth.provider_disabled`, alike.
 */
@Injectable()
export class OAuthRegistry {
  private readonly enabled = new Map<OAuthProviderId, OAuthProvider>();
  private readonly sandboxed = new Set<OAuthProviderId>();

  constructor(
    @Inject(OAUTH_CONFIG) config: OAuthConfig,
    @Inject(SANDBOX_PROVIDERS) sandboxes: SandboxProviders,
    http: UpstreamHttp,
    clock: Clock,
  ) {
    for (const entry of PROVIDERS) {
      const provider = entry.build(config, sandboxes, { http, clock });
      if (!provider) continue;
      this.enabled.set(entry.id, provider);
      if (!config[entry.id]) this.sandboxed.add(entry.id);
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
    const provider = this.enabled.get(id as OAuthProviderId);
    if (!provider) throw new AppError('oauth.provider_disabled', 'This sign-in provider is not available here.');
    return provider;
  }
}
