import { beforeAll, describe, expect, it } from '@jest/globals';
import { PasswordHasher } from '../../../src/users/password.hasher.js';

/** `$argon2id$v=19$m=19456,t=2,p=1$…`: the algorithm, version and cost parameters of a PHC hash string. */
const costOf = (phc: string) => phc.split('$').slice(1, 4).join('$');

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher();
  let stored: string;

  beforeAll(async () => {
    await hasher.onModuleInit();
    stored = await hasher.hash('a stored passphrase');
  });

  it('hashes with argon2id at OWASP’s minimum cost (19 MiB, 2 passes, 1 lane)', () => {
    expect(costOf(stored)).toBe('argon2id$v=19$m=19456,t=2,p=1');
  });

  it('accepts the right password and refuses a wrong one', async () => {
    expect(await hasher.verifyOrDummy(stored, 'a stored passphrase')).toBe(true);
    expect(await hasher.verifyOrDummy(stored, 'another passphrase')).toBe(false);
  });

  // An unknown login must cost what a wrong password does (no user enumeration by timing): with
  // no stored hash it verifies against a dummy hash of the very same cost, and says no. The
  // two latencies side by side are a figure of `npm run bench` (auth bench), not a test.
  it('with no stored hash, verifies against a dummy hash of the same cost and says no, whatever the password', async () => {
    const dummy = (hasher as unknown as { dummyHash?: string }).dummyHash;
    expect(dummy).toBeDefined();
    expect(costOf(dummy!)).toBe(costOf(stored));
    for (const password of ['a stored passphrase', '', 'anything at all'])
      expect(await hasher.verifyOrDummy(null, password)).toBe(false);
    expect(await hasher.verifyOrDummy(undefined, 'a stored passphrase')).toBe(false);
  });

  it('says no to a malformed stored hash instead of throwing', async () => {
    expect(await hasher.verifyOrDummy('not a hash', 'a stored passphrase')).toBe(false);
  });
});
