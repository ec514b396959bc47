import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DiscoveryModule, DiscoveryService, MetadataScanner } from '@nestjs/core';
import { PATH_METADATA, METHOD_METADATA } from '@nestjs/common/constants.js';
import { RequestMethod } from '@nestjs/common';
import request from 'supertest';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { testConfig } from '../support/test-config.js';

describe('operations endpoints, locked down (METRICS_TOKEN, API_DOCS=off)', () => {
  let t: TestApp;
  const token = 'metrics-token-0123456789';

  beforeAll(async () => {
    t = await createTestApp({ config: testConfig({ METRICS_TOKEN: token, API_DOCS: 'off' }) });
  });

  afterAll(async () => {
    await t.close();
  });

  it('answers /metrics only with Authorization: Bearer <METRICS_TOKEN>', async () => {
    for (const header of [undefined, 'Bearer wrong-token-000000000', `Basic ${token}`, `Bearer ${token}x`]) {
      const req = request(t.url).get('/metrics');
      const res = await (header ? req.set('Authorization', header) : req);
      expect({ header, status: res.status, code: res.body?.code }).toEqual({
        header,
        status: 401,
        code: 'auth.unauthenticated',
      });
    }
    const res = await request(t.url).get('/metrics').set('Authorization', `Bearer ${token}`).expect(200);
    expect(res.text).toMatch(/process_cpu_user_seconds_total/);
  });

  it('serves no OpenAPI UI or document', async () => {
    await request(t.url).get('/api/docs').expect(404);
    await request(t.url).get('/api/docs-json').expect(404);
  });
});

describe('operations endpoints', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Embedded: its last test stops the database under the app.
    t = await createTestApp({ imports: [DiscoveryModule], database: 'embedded' });
  });

  afterAll(async () => {
    await t.close();
  });

  describe('health', () => {
    it('/health/live answers 200 while the process is up', async () => {
      await request(t.url).get('/health/live').expect(200, { status: 'ok' });
    });

    it('/health/ready answers 200 when Postgres and the store answer', async () => {
      await request(t.url)
        .get('/health/ready')
        .expect(200, { status: 'ok', checks: { database: 'up', store: 'up' } });
    });
  });

  describe('metrics', () => {
    it('exposes the HTTP latency histogram by route template, and process metrics', async () => {
      await request(t.url).get('/health/live').expect(200);
      await request(t.url).get('/no/such/thing').expect(404);
      const res = await request(t.url).get('/metrics').expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toMatch(
        /http_request_duration_seconds_bucket\{[^}]*method="GET"[^}]*route="\/health\/live"[^}]*status_code="200"/,
      );
      expect(res.text).toMatch(/http_request_duration_seconds_count\{[^}]*route="unmatched"[^}]*status_code="404"/);
      expect(res.text).toMatch(/process_cpu_user_seconds_total/);
      expect(res.text).toMatch(/nodejs_eventloop_lag_seconds/);
      // Raw paths never become labels.
      expect(res.text).not.toContain('/no/such/thing');
    });
  });

  describe('OpenAPI', () => {
    it('serves the UI at /api/docs and the document at /api/docs-json', async () => {
      const ui = await request(t.url).get('/api/docs').redirects(1).expect(200);
      expect(ui.text).toMatch(/swagger-ui/i);
      const doc = await request(t.url).get('/api/docs-json').expect(200);
      expect(doc.body.openapi).toMatch(/^3\./);
      expect(doc.body.info.title).toBe('ScanGate');
    });

    it('describes every route the application serves, and nothing else', async () => {
      const doc = (await request(t.url).get('/api/docs-json').expect(200)).body as {
        paths: Record<string, Record<string, { summary?: string; responses?: object }>>;
      };
      const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
      );
      expect(documented.sort()).toEqual(servedRoutes(t).sort());
      for (const [path, ops] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(ops)) {
          expect({ route: `${method} ${path}`, summary: op.summary }).toEqual({
            route: `${method} ${path}`,
            summary: expect.any(String),
          });
          expect(Object.keys(op.responses ?? {})).not.toHaveLength(0);
        }
      }
    });
  });

  describe('readiness when a dependency is down', () => {
    it('answers 503 with the envelope naming the database once Postgres stops', async () => {
      // Last test of the file: it stops the embedded database under the app.
      await t.app.get(EmbeddedPostgres).stop();
      const res = await request(t.url).get('/health/ready').expect(503);
      expect(res.body).toEqual({
        code: 'store.unavailable',
        message: 'Not ready: database is down.',
        requestId: res.headers['x-request-id'],
        details: [{ path: 'database', message: 'down' }],
      });
      await request(t.url).get('/health/live').expect(200);
    });
  });
});

/** Every `METHOD /path` the Nest controllers serve, in OpenAPI path syntax. */
function servedRoutes(t: TestApp): string[] {
  const discovery = t.app.get(DiscoveryService);
  const scanner = t.app.get(MetadataScanner);
  const routes: string[] = [];
  for (const wrapper of discovery.getControllers()) {
    const { instance, metatype } = wrapper;
    if (!instance || !metatype) continue;
    // Not API: the provider sandboxes (development only) say so with @ApiExcludeController.
    if (Reflect.getMetadata('swagger/apiExcludeController', metatype)) continue;
    const base = String(Reflect.getMetadata(PATH_METADATA, metatype) ?? '');
    for (const name of scanner.getAllMethodNames(Object.getPrototypeOf(instance))) {
      const handler = (instance as Record<string, unknown>)[name] as object;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
      if (path === undefined) continue;
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
      for (const p of Array.isArray(path) ? path : [path]) {
        const full = `/${[base, p]
          .map((s) => s.replace(/^\/|\/$/g, ''))
          .filter(Boolean)
          .join('/')}`;
        routes.push(`${method} ${full.replace(/:(\w+)/g, '{$1}')}`);
      }
    }
  }
  return routes;
}
