import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { ProbeController } from '../fixtures/http/probe.controller.js';
import { testConfig } from '../support/test-config.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('HTTP conventions (PROTOCOL.md § Errors)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      config: testConfig({ LOG_LEVEL: 'info', CORS_ORIGINS: 'https://app.example.com', BODY_LIMIT: '1kb' }),
      controllers: [ProbeController],
    });
  });

  afterAll(async () => {
    await t.close();
  });

  it('answers an unknown route with 404 not_found in the envelope', async () => {
    const res = await request(t.url).get('/no/such/route').expect(404);
    expect(res.body).toEqual({
      code: 'not_found',
      message: expect.any(String),
      requestId: res.headers['x-request-id'],
    });
    expect(res.headers['content-type']).toMatch(/application\/json/);
  });

  it('generates a request id, or echoes a well-formed one from the client', async () => {
    const generated = await request(t.url).get('/health/live').expect(200);
    expect(generated.headers['x-request-id']).toMatch(UUID);
    const echoed = await request(t.url).get('/health/live').set('X-Request-Id', 'gw-1234.abc').expect(200);
    expect(echoed.headers['x-request-id']).toBe('gw-1234.abc');
  });

  it('replaces a malformed or oversized incoming request id', async () => {
    const res = await request(t.url).get('/nope').set('X-Request-Id', 'bad id<script>').expect(404);
    expect(res.headers['x-request-id']).toMatch(UUID);
    expect(res.body.requestId).toBe(res.headers['x-request-id']);
    const long = await request(t.url).get('/nope').set('X-Request-Id', 'a'.repeat(200)).expect(404);
    expect(long.headers['x-request-id']).toMatch(UUID);
  });

  it('answers malformed JSON with 400 validation.failed', async () => {
    const res = await request(t.url)
      .post('/test-probe/echo')
      .set('Content-Type', 'application/json')
      .send('{"name": "x",')
      .expect(400);
    expect(res.body).toEqual({
      code: 'validation.failed',
      message: 'The request body is not valid JSON.',
      requestId: res.headers['x-request-id'],
    });
  });

  it('answers a body over the limit with 413 payload_too_large', async () => {
    const res = await request(t.url)
      .post('/test-probe/echo')
      .send({ name: 'x'.repeat(2_000) })
      .expect(413);
    expect(res.body).toMatchObject({ code: 'payload_too_large', requestId: res.headers['x-request-id'] });
  });

  it('refuses unknown and invalid fields with details per field', async () => {
    const res = await request(t.url).post('/test-probe/echo').send({ name: '', id: 'client-chosen' }).expect(400);
    expect(res.body.code).toBe('validation.failed');
    expect(res.body.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'name' }),
        expect.objectContaining({ message: expect.stringMatching(/id/) }),
      ]),
    );
  });

  it('accepts a valid body', async () => {
    await request(t.url).post('/test-probe/echo').send({ name: 'ok' }).expect(200, { name: 'ok' });
  });

  it('maps a domain error to its code and status', async () => {
    const res = await request(t.url).get('/test-probe/domain-error').expect(410);
    expect(res.body).toEqual({
      code: 'qr.expired',
      message: 'This QR code has expired; request a new one.',
      requestId: res.headers['x-request-id'],
    });
  });

  it('passes the headers a domain error carries (Retry-After on 429)', async () => {
    const res = await request(t.url).get('/test-probe/rate-limited').expect(429);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.body.code).toBe('rate_limited');
  });

  it('turns an unexpected error into 500 internal without a stack, and logs it with the request id', async () => {
    const res = await request(t.url).get('/test-probe/boom').set('X-Request-Id', 'req-boom-1').expect(500);
    expect(res.body).toEqual({ code: 'internal', message: expect.any(String), requestId: 'req-boom-1' });
    expect(JSON.stringify(res.body)).not.toMatch(/kaboom|at .*\.ts|stack/);
    const logged = await t.log.waitFor((e) => e.requestId === 'req-boom-1' && e.level === 50 && e.context === 'Errors');
    expect(JSON.stringify(logged)).toMatch(/kaboom/);
  });

  it('marks API answers, errors included, as not cacheable', async () => {
    expect((await request(t.url).get('/health/live')).headers['cache-control']).toBe('no-store');
    expect((await request(t.url).get('/nope')).headers['cache-control']).toBe('no-store');
  });

  it('sends security headers (helmet) and hides the framework', async () => {
    const res = await request(t.url).get('/health/live');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('allows CORS for a configured origin only', async () => {
    const allowed = await request(t.url)
      .options('/health/live')
      .set('Origin', 'https://app.example.com')
      .set('Access-Control-Request-Method', 'GET');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(allowed.headers['access-control-allow-credentials']).toBe('true');

    const refused = await request(t.url).get('/health/live').set('Origin', 'https://evil.example.com');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('HTTP conventions without CORS origins', () => {
  it('sends no CORS headers at all', async () => {
    const t = await createTestApp({ config: testConfig() });
    try {
      const res = await request(t.url).get('/health/live').set('Origin', 'https://app.example.com');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});

describe('client IP behind a trusted proxy', () => {
  const ipSeenWith = async (trustProxy: string | undefined, id: string): Promise<string> => {
    const t = await createTestApp({
      config: testConfig({ LOG_LEVEL: 'info', ...(trustProxy ? { TRUST_PROXY: trustProxy } : {}) }),
    });
    try {
      await request(t.url).get('/nope').set('X-Forwarded-For', '203.0.113.9').set('X-Request-Id', id);
      const entry = await t.log.waitFor((e) => e.requestId === id && e.req !== undefined);
      return (entry as { req: { ip: string } }).req.ip;
    } finally {
      await t.close();
    }
  };

  it('uses X-Forwarded-For when TRUST_PROXY trusts the proxy', async () => {
    expect(await ipSeenWith('loopback', 'ip-1')).toBe('203.0.113.9');
  });

  it('ignores X-Forwarded-For by default', async () => {
    expect(await ipSeenWith(undefined, 'ip-2')).toMatch(/127\.0\.0\.1/);
  });
});
