import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../support/fake-clock.js';
import { MemoryStore } from '../../../src/store/memory.store.js';
import { runStoreContract, sleep } from '../../contracts/store.contract.js';

runStoreContract('MemoryStore', async () => {
  const clock = new FakeClock();
  const store = new MemoryStore(clock);
  return { store, clock, close: async () => store.onApplicationShutdown() };
});

describe('MemoryStore housekeeping', () => {
  it('sweeps expired entries nobody reads again, so memory does not grow', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore(clock, { sweepIntervalMs: 10 });
    try {
      await store.set('short', 'v', 1_000);
      await store.set('kept', 'v');
      expect(store.size).toBe(2);
      clock.advance(1_000);
      await sleep(40);
      expect(store.size).toBe(1);
      expect(await store.get('kept')).toBe('v');
    } finally {
      store.onApplicationShutdown();
    }
  });

  it('delivers a message after publish() has returned, never inside it', async () => {
    const store = new MemoryStore(new FakeClock());
    try {
      const received: string[] = [];
      await store.subscribe('ch', (m) => received.push(m));
      const publishing = store.publish('ch', 'later');
      expect(received).toEqual([]);
      await publishing;
      await sleep(0);
      expect(received).toEqual(['later']);
    } finally {
      store.onApplicationShutdown();
    }
  });
});
