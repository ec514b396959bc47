import { createHash, createPublicKey } from 'node:crypto';
import type { AlipaySettings, DingtalkSettings, OAuthProviderId, WechatSettings } from '../../config/index.js';
import type { ProviderSettings } from '../../oauth/index.js';

/** Secrets shorter than this show no character at all (so at most a quarter of one is ever shown). */
const SHORTEST_HINTED = 16;

/**
 * A secret as an operator may see it: `…` and at most its last 4 characters,
 * enough to tell which of two secrets is configured, never enough to use one.
 * A PEM key is hinted by the tail of its base64 body (not of its armour line).
 */
export function maskSecret(secret: string): string {
  const body = secret.includes('-----BEGIN') ? secret.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '') : secret;
  return body.length >= SHORTEST_HINTED ? `…${body.slice(-4)}` : '…';
}

/** SHA-256 of a key's public half (SPKI DER), hex: compares with what was uploaded to the platform, reveals nothing. */
export function publicKeyFingerprint(pem: string): string | null {
  try {
    return createHash('sha256')
      .update(createPublicKey(pem).export({ type: 'spki', format: 'der' }))
      .digest('hex');
  } catch {
    return null;
  }
}

/**
 * The settings of a provider for the admin API: ids and URLs in clear, every
 * secret masked (`maskSecret`). Built field by field, so a secret added to the
 * settings later never shows up here until someone decides how to show it.
 */
export function providerConfigView(id: OAuthProviderId, settings: ProviderSettings): Record<string, unknown> {
  switch (id) {
    case 'wechat': {
      const s = settings as WechatSettings;
      return { appId: s.appId, appSecret: maskSecret(s.appSecret), openBase: s.openBase, apiBase: s.apiBase };
    }
    case 'alipay': {
      const s = settings as AlipaySettings;
      return {
        appId: s.appId,
        privateKey: maskSecret(s.privateKeyPem),
        /** The public half of our private key: what must be registered as the app's public key with Alipay. */
        appPublicKeySha256: publicKeyFingerprint(s.privateKeyPem),
        alipayPublicKeySha256: publicKeyFingerprint(s.alipayPublicKeyPem),
        authBase: s.authBase,
        gateway: s.gateway,
      };
    }
    case 'dingtalk': {
      const s = settings as DingtalkSettings;
      return {
        clientId: s.clientId,
        clientSecret: maskSecret(s.clientSecret),
        corpId: s.corpId ?? null,
        loginBase: s.loginBase,
        apiBase: s.apiBase,
      };
    }
  }
}

/** Every secret value in `settings` (to scrub from any text that leaves the server). */
export function secretsOf(id: OAuthProviderId, settings: ProviderSettings): string[] {
  switch (id) {
    case 'wechat':
      return [(settings as WechatSettings).appSecret];
    case 'alipay':
      return [(settings as AlipaySettings).privateKeyPem];
    case 'dingtalk':
      return [(settings as DingtalkSettings).clientSecret];
  }
}
