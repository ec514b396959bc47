import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { isSealed, openPrivateKey, sealPrivateKey } from '../../../../src/auth/keys/signing-key.cipher.js';

const PEM = '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n';

describe('signing key encryption at rest', () => {
  it('round-trips with the secret, and the stored form does not contain the key', () => {
    const secret = randomBytes(32);
    const sealed = sealPrivateKey(PEM, secret);
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain('PRIVATE KEY');
    expect(openPrivateKey(sealed, secret)).toBe(PEM);
  });

  it('refuses a wrong secret with a clear message', () => {
    const sealed = sealPrivateKey(PEM, randomBytes(32));
    expect(() => openPrivateKey(sealed, randomBytes(32))).toThrow(
      /sealed with another secret: set SIGNING_KEYS_SECRET/,
    );
  });

  it('detects tampering', () => {
    const secret = randomBytes(32);
    const parts = sealPrivateKey(PEM, secret).split('.');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0] = ct[0]! ^ 1;
    parts[3] = ct.toString('base64url');
    expect(() => openPrivateKey(parts.join('.'), secret)).toThrow(/sealed with another secret/);
  });

  it('still opens a key an older version stored in the clear, and tells it apart', () => {
    expect(isSealed(PEM)).toBe(false);
    expect(isSealed(sealPrivateKey(PEM, randomBytes(32)))).toBe(true);
    expect(openPrivateKey(PEM, randomBytes(32))).toBe(PEM);
  });
});
