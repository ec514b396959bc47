import { afterAll, beforeAll, expect, it } from '@jest/globals';
import request from 'supertest';
import { ProbeController } from '../fixtures/http/probe.controller.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { RedisServer, redisServerAvailable } from '../support/redis-server.js';
import { describeWith } from '../support/services.js';
import { testConfig } from '../support/test-config.js';

/**
 * Redis stops under a running app (a private redis-server on its own port,
 * never the shared one): requests that need the store answer 503
 * store.unavailable, readiness says so, and the same app recovers by itself
 * once Redis is back. That each store call ends by a refusal or at the
 * store's own deadline (never by waiting for Redis) is proven call by call,
 * by its cause, in test/integration/store-outage.int-spec.ts; a request that
 * hung would end this test at Jest's time-out. No stopwatch here.
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

  it('serves requests that use the store while Redis is up', async () => {
    await request(t.url).post('/test-probe/counter').expect(200, { count: 1 });
    await request(t.url).get('/health/ready').expect(200);
  });

  it('answers 503 store.unavailable (never hangs) when Redis dies, then recovers without a restart', async () => {
    await redis.stop();

    const down = await request(t.url).post('/test-probe/counter');
    expect(down.status).toBe(503);
    expect(down.body).toEqual({
      code: 'store.unavailable',
      message: expect.any(String),
      requestId: down.headers['x-request-id'],
    });

    const ready = await request(t.url).get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.details).toEqual([{ path: 'store', message: 'down' }]);

    // A burst while down: every request gets its 503, none is left hanging.
    const burst = await Promise.all(Array.from({ length: 20 }, () => request(t.url).post('/test-probe/counter')));
    expect(burst.map((res) => res.status)).toEqual(Array(20).fill(503));

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

  it('answers 503 too when Redis hangs without closing connections (the store deadline ends the wait)', async () => {
    redis.freeze();
    try {
      const hung = await request(t.url).post('/test-probe/counter');
      expect(hung.status).toBe(503);
      expect(hung.body.code).toBe('store.unavailable');
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
