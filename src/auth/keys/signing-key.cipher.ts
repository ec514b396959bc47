import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const FORMAT = 'v1';

/**
 * AES-256-GCM for signing keys at rest: `v1.<iv>.<tag>.<ciphertext>`, each
 * base64url. Without a secret (development) the PEM is stored as it is.
 */
export function sealPrivateKey(pem: string, secret: Buffer | undefined): string {
  if (!secret) return pem;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', secret, iv);
  const ciphertext = Buffer.concat([cipher.update(pem, 'utf8'), cipher.final()]);
  return [FORMAT, iv, cipher.getAuthTag(), ciphertext].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

export function openPrivateKey(stored: string, secret: Buffer | undefined): string {
  if (!stored.startsWith(`${FORMAT}.`)) return stored;
  if (!secret) {
    throw new Error('The signing keys are encrypted: set SIGNING_KEYS_SECRET to the value they were created with');
  }
  const [, iv, tag, ciphertext] = stored.split('.').map((p) => Buffer.from(p, 'base64url'));
  try {
    const decipher = createDecipheriv('aes-256-gcm', secret, iv!);
    decipher.setAuthTag(tag!);
    return Buffer.concat([decipher.update(ciphertext!), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('SIGNING_KEYS_SECRET does not decrypt the stored signing keys (was it changed?)');
  }
}
