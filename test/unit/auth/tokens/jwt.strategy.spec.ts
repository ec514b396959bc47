import { describe, expect, it } from '@jest/globals';
import type { Request } from 'express';
import { bearerToken } from '../../../../src/auth/tokens/jwt.strategy.js';

const withAuthorization = (value: string | undefined) =>
  ({ get: (name: string) => (name.toLowerCase() === 'authorization' ? value : undefined) }) as unknown as Request;

describe('bearerToken (what the access-token strategy hands to the one verifier)', () => {
  it('reads the token of "Bearer <token>", the scheme in any case', () => {
    expect(bearerToken(withAuthorization('Bearer abc.def.ghi'))).toBe('abc.def.ghi');
    expect(bearerToken(withAuthorization('bearer abc.def.ghi'))).toBe('abc.def.ghi');
    expect(bearerToken(withAuthorization('BEARER   abc.def.ghi '))).toBe('abc.def.ghi');
  });

  it('gives nothing for another scheme, a missing token, two tokens or no header', () => {
    for (const value of ['Basic dXNlcjpwdw==', 'Bearer', 'Bearer ', 'Bearer a b', 'abc.def.ghi', '', undefined])
      expect(bearerToken(withAuthorization(value))).toBeUndefined();
  });
});
