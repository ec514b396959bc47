import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { ProbeController } from '../fixtures/http/probe.controller.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { testConfig } from '../support/test-config.js';

/**
 * Secrets never reach a log: each request below carries a secret where it
 * really travels, then the whole log is searched for it.
 */
describe('logs', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ config: testConfig({ LOG_LEVEL: 'trace' }), controllers: [ProbeController] });
  });

  afterAll(async () => {
    await t.close();
  });

  const secret = (name: string) => `SECRET-${name}-${Math.random().toString(36).slice(2)}`;

  async function expectNotLogged(value: string, requestId: string): Promise<void> {
    // The request's own line is written when the response finishes.
    await t.log.waitFor((e) => e.requestId === requestId && e.res !== undefined);
    expect(t.log.text).not.toContain(value);
  }

  it.each(['Authorization', 'Cookie', 'X-Poll-Token', 'Proxy-Authorization'])(
    'redact the %s header',
    async (header) => {
      const value = secret(header);
      const id = `hdr-${header}`;
      await request(t.url)
        .get('/test-probe/cookie')
        .set(header, header === 'Authorization' ? `Bearer ${value}` : value)
        .set('X-Request-Id', id);
      await expectNotLogged(value, id);
    },
  );

  it('redact a Set-Cookie the server sends', async () => {
    await request(t.url).get('/test-probe/cookie').set('X-Request-Id', 'set-cookie').expect(200);
    await expectNotLogged('refresh-cookie-secret-value', 'set-cookie');
  });

  it.each(['code', 'auth_code', 'authCode', 'state'])('redact the %s query parameter', async (name) => {
    const value = secret(name);
    const id = `q-${name}`;
    await request(t.url).get(`/api/v1/oauth/wechat/callback?${name}=${value}&lang=en`).set('X-Request-Id', id);
    await expectNotLogged(value, id);
    const entry = await t.log.waitFor((e) => e.requestId === id && e.req !== undefined);
    expect((entry.req as { url: string }).url).toContain(`${name}=[Redacted]`);
  });

  it('redact passwords and tokens in a body, even when code logs the body', async () => {
    const password = secret('password');
    const refreshToken = secret('refresh');
    await request(t.url)
      .post('/test-probe/echo')
      .set('X-Request-Id', 'body-1')
      .send({ name: 'someone', password, refreshToken })
      .expect(200);
    await expectNotLogged(password, 'body-1');
    expect(t.log.text).not.toContain(refreshToken);
    // The route did log, so the redaction (not silence) is what is proven.
    expect(t.log.entries().some((e) => e.requestId === 'body-1' && e.msg === 'echo called')).toBe(true);
  });

  it('redact a failing request the same way', async () => {
    const value = secret('token');
    await request(t.url)
      .get(`/test-probe/boom?code=${value}`)
      .set('Authorization', `Bearer ${value}`)
      .set('X-Request-Id', 'boom-1');
    await expectNotLogged(value, 'boom-1');
  });

  it('carry the request id on every line written while handling a request', async () => {
    await request(t.url).post('/test-probe/echo').set('X-Request-Id', 'rid-lines').send({ name: 'x' }).expect(200);
    await t.log.waitFor((e) => e.requestId === 'rid-lines' && e.res !== undefined);
    const lines = t.log
      .entries()
      .filter((e) => e.msg === 'echo called' || (e.req && (e.req as { url: string }).url === '/test-probe/echo'));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.filter((e) => e.requestId === 'rid-lines').length).toBeGreaterThanOrEqual(2);
  });

  it('are JSON lines with a level, a time and a message', () => {
    for (const entry of t.log.entries()) {
      expect(entry).toEqual(expect.objectContaining({ level: expect.any(Number), time: expect.any(Number) }));
    }
  });
});
