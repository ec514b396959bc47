import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../support/fake-clock.js';
import { CryptoService } from '../../../src/common/crypto/crypto.service.js';
import { PENDING_TTL_MS, PendingAuthorizations } from '../../../src/sandboxes/pending-authorizations.js';

describe('PendingAuthorizations', () => {
  const build = () => {
    const clock = new FakeClock();
    return { clock, pending: new PendingAuthorizations<{ scope: string }>(new CryptoService(), clock) };
  };

  it('opens an authorization the phone decides once, then hands it back until closed', () => {
    const { pending } = build();
    const uuid = pending.open({ redirectUri: 'https://app.test/cb', state: 'S', scope: 'auth_user' });
    expect(pending.get(uuid)).toMatchObject({
      redirectUri: 'https://app.test/cb',
      state: 'S',
      scope: 'auth_user',
      decision: null,
    });
    expect(pending.waiting(uuid)).toBe(true);
    expect(pending.decide(uuid, { code: 'C' })).toBe(true);
    expect(pending.decide(uuid, 'refused')).toBe(false);
    expect(pending.waiting(uuid)).toBe(false);
    expect(pending.get(uuid)?.decision).toEqual({ code: 'C' });
    pending.close(uuid);
    expect(pending.get(uuid)).toBeNull();
  });

  it('forgets an authorization nobody decided on within 5 minutes, and knows no other uuid', () => {
    const { clock, pending } = build();
    const uuid = pending.open({ redirectUri: 'https://app.test/cb', state: null, scope: 'auth_user' });
    clock.advance(PENDING_TTL_MS);
    expect(pending.waiting(uuid)).toBe(true);
    clock.advance(1);
    expect(pending.get(uuid)).toBeNull();
    expect(pending.decide(uuid, { code: 'C' })).toBe(false);
    expect(pending.get('unknown')).toBeNull();
  });
});
