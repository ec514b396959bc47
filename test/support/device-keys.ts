import { generateKeyPairSync } from 'node:crypto';

/** A fresh EC P-256 public JWK, as node exports it. */
export function p256PublicJwk(): { kty: string; crv: string; x: string; y: string } {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return publicKey.export({ format: 'jwk' }) as { kty: string; crv: string; x: string; y: string };
}

/** A fresh EC P-256 key pair's private JWK (with `d`). */
export function p256PrivateJwk(): Record<string, string> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ format: 'jwk' }) as Record<string, string>;
}
