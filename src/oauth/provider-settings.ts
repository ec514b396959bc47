import type { AlipaySettings, DingtalkSettings, WechatSettings } from '../config/index.js';

/** Any one provider's settings, as the configuration (or a plug-in) gives them. */
export type ProviderSettings = WechatSettings | AlipaySettings | DingtalkSettings;

/** Settings per provider; a provider without an entry is not offered by that source. */
export interface ProviderSettingsById {
  wechat?: WechatSettings;
  alipay?: AlipaySettings;
  dingtalk?: DingtalkSettings;
}

/**
 * Settings a plug-in supplies for providers that have no credentials in the
 * configuration (in development, the sandboxes: see `SandboxesModule`). OAuth
 * declares the token and never imports its provider: a global module that
 * provides it plugs in, and without one the configured providers are all there is.
 */
export const PLUGGED_PROVIDER_SETTINGS = Symbol('PLUGGED_PROVIDER_SETTINGS');
