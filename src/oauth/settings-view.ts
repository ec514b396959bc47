import { createHash, createPublicKey } from 'node:crypto';

/** How a provider's settings are shown to operators (`ProviderDefinition.view`): never a usable secret. */

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
