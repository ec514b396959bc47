import { describe, expect, it } from '@jest/globals';
import { LocalCache } from '../../../src/store/local-cache.js';

/** A loader that counts its calls and returns a new value each time. */
function countingLoader(name: string) {
  const loader = async () => {
    loader.calls += 1;
    return { name, version: loader.calls };
  };
  loader.calls = 0;
  return loader;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LocalCache (the process-local read-through cache)', () => {
  it('wrap() calls the loader once, then serves the cached value', async () => {
    const cache = new LocalCache();
    const load = countingLoader('profile');
    expect(await cache.wrap('k', load, 60_000)).toEqual({ name: 'profile', version: 1 });
    expect(await cache.wrap('k', load, 60_000)).toEqual({ name: 'profile', version: 1 });
    expect(load.calls).toBe(1);
  });

  it('wrap() calls the loader again once the TTL has passed', async () => {
    const cache = new LocalCache();
    const load = countingLoader('short');
    await cache.wrap('k', load, 50);
    expect(await cache.wrap('k', load, 50)).toEqual({ name: 'short', version: 1 });
    await sleep(120);
    expect(await cache.wrap('k', load, 50)).toEqual({ name: 'short', version: 2 });
  });

  it('concurrent wrap() calls of one key share a single loader call', async () => {
    const cache = new LocalCache();
    const load = countingLoader('burst');
    const values = await Promise.all(Array.from({ length: 10 }, () => cache.wrap('k', load, 60_000)));
    expect(load.calls).toBe(1);
    expect(new Set(values.map((v) => v.version))).toEqual(new Set([1]));
  });

  it('a failing loader caches nothing: the next wrap() loads again', async () => {
    const cache = new LocalCache();
    let calls = 0;
    const flaky = async () => {
      calls += 1;
      if (calls === 1) throw new Error('upstream down');
      return 'recovered';
    };
    await expect(cache.wrap('k', flaky, 60_000)).rejects.toThrow('upstream down');
    expect(await cache.wrap('k', flaky, 60_000)).toBe('recovered');
    expect(calls).toBe(2);
  });

  it('del() drops the value and a load in flight: the next read loads the new value', async () => {
    const cache = new LocalCache();
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    let version = 1;
    const stale = cache.wrap(
      'k',
      async () => {
        const seen = version;
        await slow;
        return seen;
      },
      60_000,
    );
    version = 2;
    cache.del('k');
    release();
    expect(await stale).toBe(1);
    expect(await cache.wrap('k', async () => version, 60_000)).toBe(2);
  });
});
