import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const FORMAT = 'v1';

/**
 * AES-256-GCM for signing keys at rest: `v1.<iv>.<tag>.<ciphertext>`, each
 * base64url. Always sealed: with SIGNING_KEYS_SECRET, or in development
 * without it, a secret made once in the data folder (see `signingKeysSecretProvider`).
 */
export function sealPrivateKey(pem: string, secret: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', secret, iv);
  const ciphertext = Buffer.concat([cipher.update(pem, 'utf8'), cipher.final()]);
  return [FORMAT, iv, cipher.getAuthTag(), ciphertext]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

/** Whether a stored private key is sealed (an older version stored development keys as plain PEM). */
export function isSealed(stored: string): boolean {
  return stored.startsWith(`${FORMAT}.`);
}

export function openPrivateKey(stored: string, secret: Buffer): string {
  if (!isSealed(stored)) return stored;
  const [, iv, tag, ciphertext] = stored.split('.').map((p) => Buffer.from(p, 'base64url'));
  try {
    const decipher = createDecipheriv('aes-256-gcm', secret, iv!);
    decipher.setAuthTag(tag!);
    return Buffer.concat([decipher.update(ciphertext!), decipher.final()]).toString('utf8');
  } catch {
    throw new Error(
      'The signing keys in the database were sealed with another secret: set SIGNING_KEYS_SECRET to the value they were made with ' +
        '(without it, every instance on this database must share DATA_DIR, whose signing-keys.secret sealed them)',
    );
  }
}
