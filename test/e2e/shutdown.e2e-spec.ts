import { describe, expect, it } from '@jest/globals';
import { HealthController } from '../../src/health/health.controller.js';
import { ProbeController } from '../fixtures/http/probe.controller.js';
import { createTestApp } from '../support/create-test-app.js';

describe('graceful shutdown', () => {
  it('finishes in-flight requests, then refuses new connections', async () => {
    const t = await createTestApp({ controllers: [ProbeController] });
    const inFlight = fetch(`${t.url}/test-probe/slow?ms=700`);
    await new Promise((r) => setTimeout(r, 150));
    const started = performance.now();
    const closing = t.close();

    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ waited: 700 });
    await closing;
    // close() waited for the slow request rather than cutting it.
    expect(performance.now() - started).toBeGreaterThanOrEqual(400);
    await expect(fetch(`${t.url}/health/live`)).rejects.toThrow();
  });

  it('reports not-ready while shutting down, so load balancers drain the instance', async () => {
    const t = await createTestApp({ controllers: [ProbeController] });
    const inFlight = fetch(`${t.url}/test-probe/slow?ms=600`);
    await new Promise((r) => setTimeout(r, 100));
    const closing = t.close();
    await new Promise((r) => setTimeout(r, 50));
    const health = t.app.get(HealthController);
    await expect(health.ready()).rejects.toMatchObject({ code: 'store.unavailable' });
    await inFlight;
    await closing;
  });
});
