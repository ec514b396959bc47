import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { DevicePublicKey, LoginBody } from '../../../../src/auth/dto/auth.schemas.js';

const publicJwk = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) as Record<string, string>;

describe('device public key', () => {
  it('accepts an EC P-256 public JWK and keeps only kty, crv, x, y', () => {
    const jwk = publicJwk();
    const parsed = DevicePublicKey.parse({ ...jwk, ext: true, key_ops: ['verify'] });
    expect(parsed).toEqual({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y });
  });

  it('refuses a private key', () => {
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    expect(DevicePublicKey.safeParse(jwk).success).toBe(false);
  });

  it('refuses a point that is not on the curve', () => {
    const jwk = publicJwk();
    const y = Buffer.from(jwk.y!, 'base64url');
    y[31] = y[31]! ^ 1;
    expect(DevicePublicKey.safeParse({ ...jwk, y: y.toString('base64url') }).success).toBe(false);
  });

  it('refuses other curves and key types', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' });
    expect(DevicePublicKey.safeParse(p384).success).toBe(false);
    const ed = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    expect(DevicePublicKey.safeParse(ed).success).toBe(false);
  });
});

describe('login body', () => {
  it('refuses unknown fields, at the top and in the device', () => {
    expect(LoginBody.safeParse({ login: 'a', password: 'b', userId: 'x' }).success).toBe(false);
    expect(
      LoginBody.safeParse({
        login: 'a',
        password: 'b',
        device: { id: 'device-001', name: 'n', platform: 'p', user: 1 },
      }).success,
    ).toBe(false);
  });

  it('refuses a device id that is too short to be unique', () => {
    expect(
      LoginBody.safeParse({ login: 'a', password: 'b', device: { id: 'x', name: 'n', platform: 'p' } }).success,
    ).toBe(false);
  });
});
