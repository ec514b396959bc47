import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { DINGTALK } from '../../../src/oauth/providers/dingtalk/dingtalk.provider.js';
import { WECHAT } from '../../../src/oauth/providers/wechat/wechat.provider.js';
import { maskSecret, publicKeyFingerprint } from '../../../src/oauth/settings-view.js';

describe("providers' settings as operators see them (admin API)", () => {
  it('masks a secret as … and at most its last 4 characters; none of a short one', () => {
    expect(maskSecret('0123456789abcdefWXYZ')).toBe('…WXYZ');
    expect(maskSecret('0123456789abcdef')).toBe('…cdef');
    expect(maskSecret('0123456789abcde')).toBe('…');
    expect(maskSecret('secret')).toBe('…');
    expect(maskSecret('')).toBe('…');
  });

  it('masks a PEM key by the tail of its base64 body, not of its armour', () => {
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 1024,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const body = privateKey.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    expect(maskSecret(privateKey)).toBe(`…${body.slice(-4)}`);
  });

  it('shows ids and URLs in clear and no secret, field by field', () => {
    const wechat = WECHAT.view({
      appId: 'wx1',
      appSecret: 'abcdefghijklmnopqrstuvwxyz',
      openBase: 'https://open',
      apiBase: 'https://api',
    });
    expect(wechat).toEqual({ appId: 'wx1', appSecret: '…wxyz', openBase: 'https://open', apiBase: 'https://api' });
    const ding = DINGTALK.view({
      clientId: 'ding1',
      clientSecret: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
      loginBase: 'https://login',
      apiBase: 'https://api',
    });
    expect(ding).toEqual({
      clientId: 'ding1',
      clientSecret: '…WXYZ',
      corpId: null,
      loginBase: 'https://login',
      apiBase: 'https://api',
    });
    expect(JSON.stringify(ding)).not.toContain('ABCDEFGH');
    expect(DINGTALK.secrets({ clientId: 'ding1', clientSecret: 'S3CRET', loginBase: 'x', apiBase: 'y' })).toEqual([
      'S3CRET',
    ]);
  });

  it('fingerprints the public half of an RSA key (the same from the private and the public key); null for garbage', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 1024,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    expect(publicKeyFingerprint(privateKey)).toMatch(/^[0-9a-f]{64}$/);
    expect(publicKeyFingerprint(privateKey)).toBe(publicKeyFingerprint(publicKey));
    expect(publicKeyFingerprint('not a key')).toBeNull();
  });
});
