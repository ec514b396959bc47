import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Logger, type LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { ConfigModule } from '../../src/config/config.module.js';
import type { StoreConfig } from '../../src/config/config.types.js';
import { RedisStore } from '../../src/store/redis.store.js';
import { listen, type Listener } from '../contracts/store.contract.js';
import { StoreUnavailableError } from '../../src/store/store.errors.js';
import { StoreHealthIndicator } from '../../src/store/store.health.js';
import { StoreModule } from '../../src/store/store.module.js';
import { STORE, type Store } from '../../src/store/store.js';
import { RedisServer, redisServerAvailable } from '../support/redis-server.js';
import { describeWith } from '../support/services.js';
import { testConfig } from '../support/test-config.js';

const TIMEOUT_MS = 500;
/** What the store's own deadline says when Redis does not answer in STORE_TIMEOUT_MS (500 here). */
const DEADLINE = new RegExp(`did not answer within ${TIMEOUT_MS} ms`);
const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;

/** Every line Nest's Logger prints during the suite, to prove what is (not) logged. */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown, ...rest: unknown[]): void {
    this.lines.push(['log', message, ...rest].map(String).join(' '));
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.lines.push(['warn', message, ...rest].map(String).join(' '));
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.lines.push(['error', message, ...rest].map(String).join(' '));
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.lines.push(['debug', message, ...rest].map(String).join(' '));
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.lines.push(['verbose', message, ...rest].map(String).join(' '));
  }
}

/** Resolves with the elapsed ms once `call` has rejected with StoreUnavailableError; fails otherwise. */
/**
 * Why `call` failed with StoreUnavailableError: the error underneath (the
 * store's deadline, or ioredis refusing without a connection). Whether a call
 * waited out the deadline is told by that cause, never by a stopwatch (a
 * loaded machine is slow at everything); a call that hung would hit the test's
 * time-out instead.
 */
async function causeOfUnavailable(call: () => Promise<unknown>): Promise<string> {
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreUnavailableError);
  const cause = (error as Error).cause;
  return cause instanceof Error ? cause.message : String(cause ?? 'closed');
}

/** Every Store method, each called once. */
function everyMethod(store: Store): Record<string, () => Promise<unknown>> {
  return {
    get: () => store.get('k'),
    set: () => store.set('k', 'v', 10_000),
    delete: () => store.delete('k'),
    take: () => store.take('k'),
    compareAndSet: () => store.compareAndSet('k', null, 'v', { publish: { channel: 'events', message: 'm' } }),
    increment: () => store.increment('n', 10_000),
    publish: () => store.publish('events', 'm'),
    subscribe: () => store.subscribe(`fresh-${Math.random()}`, () => undefined),
    ping: () => store.ping(),
  };
}

/** Retries `call` until it resolves (Redis back and reconnected), failing after `timeoutMs`. */
async function eventually<T>(call: () => Promise<T>, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`${what} still failing after ${timeoutMs} ms: ${String(error)}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describeWith(
  redisServerAvailable() ? undefined : 'redis-server binary is not installed',
  'Store through a Redis outage (private redis-server)',
  () => {
    const logger = new CapturingLogger();
    let server: RedisServer;
    let prefixes = 0;

    function config(): StoreConfig {
      return { mode: 'redis', url: server.url, timeoutMs: TIMEOUT_MS, keyPrefix: `outage:${++prefixes}:` };
    }

    beforeAll(async () => {
      Logger.overrideLogger(logger);
      server = await RedisServer.start({ password: PASSWORD });
    });

    afterAll(async () => {
      await server?.stop();
    });

    describe('a RedisStore connected before the outage', () => {
      let store: RedisStore;
      let early: Listener;

      beforeAll(async () => {
        await server.start();
        store = new RedisStore(config());
        await store.onModuleInit();
      });

      afterAll(async () => {
        await store.onApplicationShutdown();
      });

      it('works while Redis is up, authenticating with the password from the URL', async () => {
        await store.set('k', 'v');
        expect(await store.get('k')).toBe('v');
        early = await listen(store, 'events');
        await store.publish('events', 'before the outage');
        await early.drain(store);
        expect(early.messages).toEqual(['before the outage']);
      });

      it('fails every method with StoreUnavailableError at once (nothing queued) once Redis is killed', async () => {
        await server.stop();
        for (const [name, call] of Object.entries(everyMethod(store))) {
          // Refused by the client at once (no connection, nothing queued), not the deadline waited out.
          const cause = await causeOfUnavailable(call);
          expect({ name, waitedOut: DEADLINE.test(cause) }).toEqual({ name, waitedOut: false });
        }
        // All at once, too: nothing queues behind anything else.
        const outcomes = await Promise.allSettled(Object.values(everyMethod(store)).map((call) => call()));
        for (const outcome of outcomes) {
          expect(outcome.status === 'rejected' && outcome.reason instanceof StoreUnavailableError).toBe(true);
          const cause = outcome.status === 'rejected' ? String((outcome.reason as Error).cause) : '';
          expect(DEADLINE.test(cause)).toBe(false);
        }
      });

      it('works again after Redis restarts on the same port, and the earlier subscription gets new messages', async () => {
        await server.start();
        // ping() answers on both connections only once both are ready; the
        // subscriber re-subscribes before anything else it sends, so by then
        // the old subscription is active again.
        await eventually(() => store.ping(), 'ping after the restart');
        await store.set('k', 'after');
        expect(await store.get('k')).toBe('after');
        expect(await store.compareAndSet('k', 'after', 'moved')).toBe(true); // scripts are gone after a restart
        await store.publish('events', 'after the restart');
        await early.drain(store);
        expect(early.messages).toEqual(['before the outage', 'after the restart']);
      });

      it('fails at its deadline when Redis is frozen (connections open, no answers), and recovers after', async () => {
        server.freeze();
        try {
          for (const call of [
            () => store.get('k'),
            () => store.subscribe('frozen', () => undefined),
            () => store.ping(),
          ]) {
            // The store's own deadline ended it (not a refusal, and not a hang: that would time the test out).
            expect(await causeOfUnavailable(call)).toMatch(DEADLINE);
          }
        } finally {
          server.thaw();
        }
        await eventually(() => store.ping(), 'ping after the thaw');
        expect(await store.get('k')).toBe('moved');
        await store.publish('events', 'after the thaw');
        await early.drain(store);
        expect(early.messages.at(-1)).toBe('after the thaw');
      });

      it('falls back from EVALSHA to EVAL when Redis has forgotten the scripts (SCRIPT FLUSH)', async () => {
        const admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
        try {
          expect(await store.compareAndSet('cas', null, 'a')).toBe(true);
          await admin.script('FLUSH');
          expect(await store.compareAndSet('cas', 'a', 'b')).toBe(true);
          await admin.script('FLUSH');
          expect((await store.increment('n', 10_000)).count).toBe(1);
        } finally {
          await admin.quit();
        }
      });
    });

    it('a RedisStore created while Redis is down starts without throwing and works once Redis is up', async () => {
      await server.stop();
      const store = new RedisStore(config());
      try {
        await expect(store.onModuleInit()).resolves.toBeUndefined();
        await causeOfUnavailable(() => store.get('k'));

        await server.start();
        await eventually(() => store.ping(), 'ping once Redis is up');
        await store.set('k', 'v');
        expect(await store.get('k')).toBe('v');
        const events = await listen(store, 'events');
        await store.publish('events', 'hello');
        await events.drain(store);
        expect(events.messages).toEqual(['hello']);
      } finally {
        await store.onApplicationShutdown();
      }
    });

    it('the whole StoreModule starts with Redis down: store 503s, then recovers', async () => {
      await server.stop();
      const moduleRef = await Test.createTestingModule({
        imports: [
          ConfigModule.forRoot(
            testConfig({
              REDIS_URL: server.url,
              STORE_TIMEOUT_MS: String(TIMEOUT_MS),
              STORE_KEY_PREFIX: 'outage:module:',
            }),
          ),
          StoreModule,
        ],
      })
        .setLogger(logger)
        .compile();
      try {
        await moduleRef.init();
        const store = moduleRef.get<Store>(STORE);
        const health = moduleRef.get(StoreHealthIndicator);

        expect(await health.check()).toEqual({ up: false, mode: 'redis', error: 'store.unavailable' });
        await causeOfUnavailable(() => store.get('k'));
        await server.start();
        await eventually(async () => {
          const state = await health.check();
          if (!state.up) throw new Error(state.error);
        }, 'store health once Redis is up');
        expect(await store.get('k')).toBeNull();
      } finally {
        // Closing while Redis is down must not hang (the test's time-out would catch it).
        await moduleRef.close();
      }
    });

    it('logged the outages as warnings, and never the Redis URL or its password', () => {
      const text = logger.lines.join('\n');
      for (const connection of ['store', 'subscriber']) {
        expect(logger.lines.some((line) => line.startsWith(`warn Redis ${connection} connection unavailable`))).toBe(
          true,
        );
      }
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(server.url);
    });
  },
);
