import { afterAll, beforeAll, expect, it } from '@jest/globals';
import request from 'supertest';
import { ProbeController } from '../fixtures/http/probe.controller.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { RedisServer, redisServerAvailable } from '../support/redis-server.js';
import { describeWith } from '../support/services.js';
import { testConfig } from '../support/test-config.js';
import { notHung } from '../support/time-limits.js';

/** The store's default time-out (STORE_TIMEOUT_MS), and the readiness check's (health.controller.ts). */
const STORE_TIMEOUT_MS = 500;
const HEALTH_CHECK_TIMEOUT_MS = 1_000;

/**
 * Redis stops under a running app (a private redis-server on its own port,
 * never the shared one): requests that need the store answer 503
 * store.unavailable fast (within the store's time-out), readiness says so, and the same app
 * recovers by itself once Redis is back.
 */
describeWith(redisServerAvailable() ? undefined : 'the redis-server binary is not installed', 'a Redis outage', () => {
  let redis: RedisServer;
  let t: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    t = await createTestApp({
      config: testConfig({ LOG_LEVEL: 'info', REDIS_URL: redis.url, STORE_KEY_PREFIX: `outage${Date.now()}:` }),
      controllers: [ProbeController],
    });
  });

  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  const timed = async (run: () => Promise<request.Response>) => {
    const started = performance.now();
    const res = await run();
    return { res, ms: performance.now() - started };
  };

  it('serves requests that use the store while Redis is up', async () => {
    await request(t.url).post('/test-probe/counter').expect(200, { count: 1 });
    await request(t.url).get('/health/ready').expect(200);
  });

  it('answers 503 store.unavailable fast (never hangs) when Redis dies, then recovers without a restart', async () => {
    await redis.stop();

    const down = await timed(() => request(t.url).post('/test-probe/counter'));
    expect(down.res.status).toBe(503);
    expect(down.res.body).toEqual({
      code: 'store.unavailable',
      message: expect.any(String),
      requestId: down.res.headers['x-request-id'],
    });
    expect(down.ms).toBeLessThan(notHung(STORE_TIMEOUT_MS));

    const ready = await timed(() => request(t.url).get('/health/ready'));
    expect(ready.res.status).toBe(503);
    expect(ready.res.body.details).toEqual([{ path: 'store', message: 'down' }]);
    expect(ready.ms).toBeLessThan(notHung(HEALTH_CHECK_TIMEOUT_MS));

    // A burst while down: every request fails fast, none hangs.
    const burst = await timed(() =>
      Promise.all(Array.from({ length: 20 }, () => request(t.url).post('/test-probe/counter'))).then(
        (all) => all[all.length - 1]!,
      ),
    );
    expect(burst.res.status).toBe(503);
    expect(burst.ms).toBeLessThan(notHung(STORE_TIMEOUT_MS));

    await redis.start();
    const deadline = Date.now() + 5_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await request(t.url).post('/test-probe/counter')).status;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
    await request(t.url).get('/health/ready').expect(200);
  });

  it('fails fast too when Redis hangs without closing connections', async () => {
    redis.freeze();
    try {
      const hung = await timed(() => request(t.url).post('/test-probe/counter'));
      expect(hung.res.status).toBe(503);
      expect(hung.res.body.code).toBe('store.unavailable');
      expect(hung.ms).toBeLessThan(notHung(STORE_TIMEOUT_MS));
    } finally {
      redis.thaw();
    }
    const deadline = Date.now() + 5_000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      status = (await request(t.url).post('/test-probe/counter')).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
  });
});
