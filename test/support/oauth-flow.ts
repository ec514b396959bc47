import { expect } from '@jest/globals';
import request from 'supertest';
import { bearer } from './accounts.js';
import type { Browser } from './browser.js';
import { createTestApp, type TestApp } from './create-test-app.js';
import { freePort } from './server-process.js';
import { testConfig } from './test-config.js';

/**
 * A third-party login driven like a person would, through a provider sandbox:
 * our authorize (or a link URL) → the sandbox's QR page → its phone decides →
 * the QR page sends the browser back to our callback.
 */
export interface SandboxFlow {
  /** The provider authorization URL we sent the browser to. */
  authorizeUrl: URL;
  state: string;
  /** The sandbox QR page of this attempt (it redirects once the phone decided). */
  pageUrl: string;
  /** Where the QR code points: the sandbox phone. */
  phoneUrl: string;
}

/** Opens `path` (our authorize route, or a provider URL we answered) and reaches the sandbox's QR page. */
export async function startAt(browser: Browser, path: string): Promise<SandboxFlow> {
  const start = path.startsWith('/api/') ? await browser.get(path) : undefined;
  if (start) expect(start.status).toBe(302);
  const authorizeUrl = new URL(start ? start.headers.location! : path);
  const opened = await browser.get(authorizeUrl.toString());
  expect(opened.status).toBe(303);
  const pageUrl = new URL(opened.headers.location!, authorizeUrl).toString();
  const qr = await browser.get(pageUrl);
  const phone = /data-phone href="([^"]+)"/.exec(qr.text);
  if (!phone) throw new Error(`no QR code on the sandbox page: ${qr.status} ${qr.text.slice(0, 300)}`);
  return {
    authorizeUrl,
    state: authorizeUrl.searchParams.get('state')!,
    pageUrl,
    phoneUrl: phone[1]!.replace(/&amp;/g, '&'),
  };
}

/** The sandbox phone decides (as `user`); the QR page then redirects: where to (our callback, normally). */
export async function decideAs(
  browser: Browser,
  flow: Pick<SandboxFlow, 'pageUrl' | 'phoneUrl'>,
  user = 'lihua',
  decision = 'approve',
): Promise<string> {
  const phone = await browser.get(flow.phoneUrl);
  expect(phone.text).toContain('data-action="approve"');
  expect((await browser.postForm(flow.phoneUrl, { decision, user })).text).toContain(`data-done="${decision}"`);
  const back = await browser.get(flow.pageUrl);
  return back.status === 302 ? back.headers.location! : `(no redirect: ${back.status})`;
}

/** Who the browser's refresh cookie signs in as (POST /auth/refresh from the public origin, then GET /me). */
export async function signedInUser(
  url: string,
  publicUrl: string,
  browser: Browser,
): Promise<{ id: string; displayName: string; login: string; accessToken: string }> {
  const refreshed = await request(url)
    .post('/api/v1/auth/refresh')
    .set('Origin', publicUrl)
    .set('Cookie', browser.cookieHeader())
    .send({})
    .expect(200);
  const me = await request(url).get('/api/v1/me').set(bearer(refreshed.body.accessToken)).expect(200);
  return {
    ...(me.body as { id: string; displayName: string; login: string }),
    accessToken: refreshed.body.accessToken as string,
  };
}

/**
 * The app for third-party login tests: listening on the port its PUBLIC_URL
 * names (the sandboxes send the browser there and the server calls them there),
 * with a short provider timeout so timeout tests stay quick.
 */
export async function oauthTestApp(
  env: Record<string, string>,
  database?: 'embedded' | 'any',
): Promise<{ t: TestApp; publicUrl: string }> {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const t = await createTestApp({
    config: testConfig({
      LOG_LEVEL: 'info',
      PORT: String(port),
      PUBLIC_URL: publicUrl,
      OAUTH_TIMEOUT_MS: '700',
      ...env,
    }),
    listenOnConfigPort: true,
    database,
  });
  return { t, publicUrl };
}
