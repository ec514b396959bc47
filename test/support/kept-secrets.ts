import { expect } from '@jest/globals';
import type { TestApp } from './create-test-app.js';
import { cookieToken } from './http.js';
import { TEST_PASSWORD } from './accounts.js';
import { auditTexts } from './rows.js';

/** Wrong passwords the suites try: no more allowed in an audit row than the right ones. */
const TRIED_PASSWORDS = ['wrong password!', 'not the password at all', 'some wrong password', 'guessing wrong'];

/**
 * Every password and token a suite handled (`keep` what a sign-in answers),
 * to prove at its end that none of them reached an audit row.
 */
export class KeptSecrets {
  private readonly values = new Set<string>([TEST_PASSWORD, ...TRIED_PASSWORDS]);

  readonly keep = <T extends { accessToken?: string; refreshToken?: string; cookie?: string }>(x: T): T => {
    for (const v of [x.accessToken, x.refreshToken, x.cookie && cookieToken(x.cookie)]) if (v) this.values.add(v);
    return x;
  };

  add(secret: string): void {
    this.values.add(secret);
  }

  /** No audit row, in any column, holds a kept secret, an argon2 hash or a JWT; there are rows to search. */
  async expectNoneIn(t: TestApp): Promise<void> {
    const texts = await auditTexts(t);
    expect(texts.length).toBeGreaterThan(0);
    for (const secret of this.values) {
      const hit = texts.find((text) => text.includes(secret));
      expect({ secret: secret.slice(0, 12), hit }).toEqual({ secret: secret.slice(0, 12), hit: undefined });
    }
    expect(texts.join('\n')).not.toMatch(/argon2|eyJ[A-Za-z0-9_-]{10,}\./);
  }
}
