import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuthProviderError } from '../../../src/oauth/oauth-provider.js';
import { UpstreamHttp } from '../../../src/oauth/upstream.http.js';

/** A local stand-in for a provider: answers by path. */
let server: Server;
let base: string;
const http = new UpstreamHttp({ timeoutMs: 300, sandboxes: false });

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/slow') return; // never answers
    if (path === '/big') {
      res.setHeader('content-type', 'application/json');
      res.end('x'.repeat(1024 * 1024 + 1));
      return;
    }
    if (path === '/error') {
      res.statusCode = 400;
      res.setHeader('content-type', 'application/json');
      res.end('{"code":"invalidAuthCode"}');
      return;
    }
    if (path === '/redirect') {
      res.statusCode = 302;
      res.setHeader('location', 'http://example.invalid/');
      res.end();
      return;
    }
    res.setHeader('content-type', 'text/plain');
    res.end(`{"method":"${req.method}"}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('UpstreamHttp', () => {
  it('returns status, content type and the exact text, whatever the status', async () => {
    await expect(http.request(`${base}/ok`, { method: 'POST', body: 'a=1' })).resolves.toEqual({
      status: 200,
      contentType: 'text/plain',
      text: '{"method":"POST"}',
    });
    await expect(http.request(`${base}/error`)).resolves.toMatchObject({
      status: 400,
      text: '{"code":"invalidAuthCode"}',
    });
  });

  it('gives up after the timeout with upstream, naming the host but not the query', async () => {
    const error = (await http.request(`${base}/slow?secret=TOPSECRET`).catch((e: unknown) => e)) as OAuthProviderError;
    expect(error).toBeInstanceOf(OAuthProviderError);
    expect(error.failure).toBe('upstream');
    expect(error.message).toContain('did not answer within 300 ms');
    expect(error.message).not.toContain('TOPSECRET');
  });

  it('reports an unreachable host and an oversized answer as upstream', async () => {
    await expect(http.request('http://127.0.0.1:1/x')).rejects.toMatchObject({
      failure: 'upstream',
      message: expect.stringContaining('unreachable'),
    });
    await expect(http.request(`${base}/big`)).rejects.toMatchObject({
      failure: 'upstream',
      message: expect.stringContaining('oversized'),
    });
  });

  it('does not follow redirects', async () => {
    await expect(http.request(`${base}/redirect`)).resolves.toMatchObject({ status: 302 });
  });
});
