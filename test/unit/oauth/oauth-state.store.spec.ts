import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../support/fake-clock.js';
import { CryptoService } from '../../../src/common/crypto/crypto.service.js';
import { MemoryStore } from '../../../src/store/memory.store.js';
import { OAUTH_STATE_TTL_MS, OAuthStateStore } from '../../../src/oauth/oauth-state.store.js';

const START = {
  provider: 'wechat' as const,
  mode: 'login' as const,
  userId: null,
  sessionId: null,
  returnTo: '/after',
};

describe('OAuthStateStore (MemoryStore, fake clock)', () => {
  let clock: FakeClock;
  let store: MemoryStore;
  let states: OAuthStateStore;
  let browser: string;

  beforeEach(() => {
    clock = new FakeClock();
    store = new MemoryStore(clock);
    states = new OAuthStateStore(store, new CryptoService(), clock);
    browser = states.browserKey(undefined);
  });

  afterEach(() => store.onApplicationShutdown());

  const invalid = { code: 'oauth.state_invalid' };

  it('gives back the start once, for the browser and provider it was issued to', async () => {
    const state = await states.issue(START, browser);
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await expect(states.take(state, browser, 'wechat')).resolves.toEqual({ ...START, startedAt: clock.now() });
    await expect(states.take(state, browser, 'wechat')).rejects.toMatchObject(invalid);
  });

  it('refuses another browser, another provider, and burns the state either way', async () => {
    const other = states.browserKey(undefined);
    const a = await states.issue(START, browser);
    await expect(states.take(a, other, 'wechat')).rejects.toMatchObject(invalid);
    await expect(states.take(a, browser, 'wechat')).rejects.toMatchObject(invalid);
    const b = await states.issue(START, browser);
    await expect(states.take(b, browser, 'alipay')).rejects.toMatchObject(invalid);
    await expect(states.take(b, browser, 'wechat')).rejects.toMatchObject(invalid);
    const c = await states.issue(START, browser);
    await expect(states.take(c, undefined, 'wechat')).rejects.toMatchObject(invalid);
  });

  it('expires after 10 minutes', async () => {
    const state = await states.issue(START, browser);
    clock.advance(OAUTH_STATE_TTL_MS);
    await expect(states.take(state, browser, 'wechat')).rejects.toMatchObject(invalid);
  });

  it('refuses missing, malformed and unknown states alike', async () => {
    for (const state of [undefined, '', 'short', 42, ['x'], 'A'.repeat(43)]) {
      await expect(states.take(state, browser, 'wechat')).rejects.toMatchObject(invalid);
    }
  });

  it('lets one browser run logins in two tabs: its key is kept, each state stands alone', async () => {
    expect(states.browserKey(browser)).toBe(browser);
    expect(states.browserKey('not-a-key')).not.toBe('not-a-key');
    const first = await states.issue(START, browser);
    const second = await states.issue({ ...START, returnTo: '/other' }, states.browserKey(browser));
    await expect(states.take(second, browser, 'wechat')).resolves.toMatchObject({ returnTo: '/other' });
    await expect(states.take(first, browser, 'wechat')).resolves.toMatchObject({ returnTo: '/after' });
  });

  it('keeps only a hash of the state in the store', async () => {
    const state = await states.issue(START, browser);
    expect(await store.get(`oauth:state:${state}`)).toBeNull();
    const stored = await store.get(`oauth:state:${new CryptoService().sha256(state).toString('base64url')}`);
    expect(stored).not.toBeNull();
    expect(stored).not.toContain(state);
    expect(stored).not.toContain(browser);
  });
});
