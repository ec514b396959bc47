import type { OAuthProviderId, ProviderSettingsById } from '../config/index.js';

export type { ProviderSettingsById };

/** Any one provider's settings, as the configuration (or a plug-in) gives them. */
export type ProviderSettings = NonNullable<ProviderSettingsById[OAuthProviderId]>;

/**
 * Settings a plug-in supplies for providers that have no credentials in the
 * configuration (in development, the sandboxes: see `SandboxesModule`). OAuth
 * declares the token and never imports its provider: a global module that
 * provides it plugs in, and without one the configured providers are all there is.
 */
export const PLUGGED_PROVIDER_SETTINGS = Symbol('PLUGGED_PROVIDER_SETTINGS');
