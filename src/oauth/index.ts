/** The public face of `oauth/`: what other modules may import (anything else is internal). */
export { OAuthProviderError } from './oauth-provider.js';
export { OAuthModule } from './oauth.module.js';
export { OAuthRegistry } from './oauth.registry.js';
export { PLUGGED_PROVIDER_SETTINGS, type ProviderSettingsById } from './provider-settings.js';
