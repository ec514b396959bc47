import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createUser, TEST_PASSWORD } from '../support/accounts.js';
import { CHROMIUM_NEED, decodeQr, launchChromium, SCREENSHOTS } from '../support/chromium.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import {
  assertBuilt,
  freePort,
  startServer,
  stopStartedServers,
  waitForOk,
  type ServerProcess,
} from '../support/server-process.js';
import { describeWith, REAL_SERVICES_NEED, realBackend } from '../support/services.js';
import { testConfig } from '../support/test-config.js';

/**
 * The pages in a real browser (Debian's Chromium): a person opens /login, a
 * phone "scans" the QR (decoded from a screenshot, as a camera would) and
 * opens the phone page in another browser context, signs in there as a mobile
 * device (WebCrypto key in IndexedDB), picks the number and confirms; the
 * first page ends signed in. Screenshots land in test-output/screenshots.
 */

const shot = (name: string) => join(SCREENSHOTS, `${name}.png`);

/** The QR on the login page as a phone camera sees it: its URL, the id in it, and the match code shown next to it. */
async function qrOnScreen(page: Page, screenshot?: string): Promise<{ url: string; id: string; code: string }> {
  await page.locator('[data-qr][data-qr-status="pending"] img[data-qr-image]').waitFor();
  // Drawn, not just in the DOM (a function, not a string: the page's CSP forbids eval).
  await page.waitForFunction(() => {
    const image = (
      globalThis as unknown as {
        document: { querySelector(s: string): { complete: boolean; naturalWidth: number } | null };
      }
    ).document.querySelector('img[data-qr-image]');
    return image !== null && image.complete && image.naturalWidth > 0;
  });
  if (screenshot) await page.screenshot({ path: shot(screenshot) });
  // What the camera reads: the code and its quiet zone, as drawn on the screen.
  const url = decodeQr(await page.locator('img[data-qr-image]').screenshot());
  expect(url).toMatch(/\/m\/qr\/[A-Za-z0-9_-]{43}$/);
  const code = (await page.locator('[data-match-code]').textContent())!;
  expect(code).toMatch(/^\d{2}$/);
  return { url: url!, id: url!.split('/').at(-1)!, code };
}

/** The name the page shows once signed in (waits for the signed-in state). */
async function signedInUser(page: Page, timeout = 10_000): Promise<string | null> {
  const element = page.locator('[data-signed-in-user]');
  await element.waitFor({ state: 'visible', timeout });
  return element.textContent();
}

const statusOf = (page: Page) => page.locator('[data-qr]').getAttribute('data-qr-status');
const choicesOn = async (handset: Page) =>
  Promise.all(
    (await handset.locator('[data-match-choice]').all()).map(async (b) => (await b.getAttribute('data-match-choice'))!),
  );
const qrIdOf = async (page: Page) => (await page.locator('img[data-qr-image]').getAttribute('src'))?.split('/').at(-2);

/** The phone page at `url`, signing in first when the phone has no session yet; ends on the question. */
async function openOnPhone(
  phone: BrowserContext,
  url: string,
  login: string,
  screenshots?: { signIn?: string; ask?: string },
): Promise<Page> {
  const handset = await phone.newPage();
  await handset.goto(url);
  const signIn = handset.locator('[data-view="sign-in"]');
  const ask = handset.locator('[data-view="ask"]');
  await handset.locator('[data-view="sign-in"]:visible, [data-view="ask"]:visible').first().waitFor();
  if (await signIn.isVisible()) {
    if (screenshots?.signIn) await handset.screenshot({ path: shot(screenshots.signIn) });
    await handset.locator('[data-form="sign-in"] input[name="login"]').fill(login);
    await handset.locator('[data-form="sign-in"] input[name="password"]').fill(TEST_PASSWORD);
    await handset.locator('[data-form="sign-in"] button[type="submit"]').click();
  }
  await ask.waitFor();
  if (screenshots?.ask) await handset.screenshot({ path: shot(screenshots.ask) });
  return handset;
}

async function confirmOnPhone(handset: Page, code: string): Promise<void> {
  await handset.locator(`[data-match-choice="${code}"]`).click();
  await handset.locator('[data-action="confirm"]').click();
  await handset.locator('[data-view="done"]').waitFor();
}

const desktopOptions = { viewport: { width: 1000, height: 900 }, locale: 'en-US' };
const phoneOptions = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'en-US' };

describeWith(CHROMIUM_NEED, 'login and phone pages in Chromium', () => {
  let t: TestApp;
  let chromium: Browser;
  let publicUrl: string;
  const contexts: BrowserContext[] = [];
  const context = async (options: Parameters<Browser['newContext']>[0]) => {
    const created = await chromium.newContext(options);
    contexts.push(created);
    return created;
  };

  /** A login page showing its QR, and a phone (a new user) asking about it. */
  const askedOnPhone = async () => {
    const { login } = await createUser(t);
    const page = await (await context(desktopOptions)).newPage();
    await page.goto(`${publicUrl}/login`);
    const qr = await qrOnScreen(page);
    return { page, qr, handset: await openOnPhone(await context(phoneOptions), qr.url, login) };
  };

  beforeAll(async () => {
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    // Keyless phones refused: a confirm only works when the page's WebCrypto device key signed it.
    t = await createTestApp({
      // Behind a "proxy" (loopback): a context's X-Forwarded-For stands for where it is.
      config: testConfig({
        LOG_LEVEL: 'warn',
        PORT: String(port),
        PUBLIC_URL: publicUrl,
        QR_ALLOW_KEYLESS_DEVICES: 'off',
        RATE_LIMITS: 'off',
        TRUST_PROXY: 'loopback',
      }),
      listenOnConfigPort: true,
    });
    chromium = await launchChromium();
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 180_000);

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await chromium?.close();
    await t?.close();
  });

  it('signs in: QR decoded from the screen, number picked and confirmed on a device-signed phone, the page shows the user', async () => {
    const { user, login } = await createUser(t, { displayName: 'Li Lei' });
    const desktop = await context(desktopOptions);
    const phone = await context(phoneOptions);
    const page = await desktop.newPage();
    await page.goto(`${publicUrl}/login`);
    const qr = await qrOnScreen(page, 'login-en');
    expect(qr.url).toBe(`${publicUrl}/m/qr/${qr.id}`);
    expect(await page.locator('[data-qr]').getAttribute('data-qr-transport')).toBe('socket');

    const confirms: Array<Record<string, string>> = [];
    phone.on('request', (r) => r.url().endsWith('/confirm') && confirms.push(r.headers()));
    const handset = await openOnPhone(phone, qr.url, login, { signIn: 'phone-sign-in', ask: 'phone-ask' });
    // Who is asking: the desktop browser, from its own address.
    await expect(handset.locator('[data-requester="browser"]').textContent()).resolves.toMatch(/Chrom/);
    await expect(handset.locator('[data-requester="ip"]').textContent()).resolves.toBe('127.0.0.1');
    const choices = await choicesOn(handset);
    expect(choices).toHaveLength(3);
    expect(choices).toContain(qr.code);
    // Confirm and decline are the same size (equally prominent).
    const [confirmBox, declineBox] = [
      await handset.locator('[data-action="confirm"]').boundingBox(),
      await handset.locator('[data-action="decline"]').boundingBox(),
    ];
    expect([confirmBox!.width, confirmBox!.height]).toEqual([declineBox!.width, declineBox!.height]);

    await page.locator('[data-qr][data-qr-status="scanned"]').waitFor();
    await page.screenshot({ path: shot('login-scanned') });
    await confirmOnPhone(handset, qr.code);
    await handset.screenshot({ path: shot('phone-confirmed') });

    expect(await signedInUser(page, 10_000)).toBe('Li Lei');
    expect(await statusOf(page)).toBe('consumed');
    await page.screenshot({ path: shot('signed-in') });

    // The confirm was device-signed (P-256, 64-byte signature) by a key registered at the phone's sign-in.
    expect(confirms).toHaveLength(1);
    expect(confirms[0]!['x-device-signature']).toMatch(/^[A-Za-z0-9_-]{86}$/);
    const [mobile] = await t.app
      .get(DataSource)
      .query(`SELECT device_public_key FROM sessions WHERE user_id = $1 AND kind = 'mobile'`, [user.id]);
    expect(mobile.device_public_key).toMatchObject({ kty: 'EC', crv: 'P-256' });
    // No token in the phone's localStorage or sessionStorage.
    expect(await handset.evaluate('localStorage.length + sessionStorage.length')).toBe(0);
    // The browser holds a web session: the refresh cookie, HttpOnly.
    const cookie = (await desktop.cookies(`${publicUrl}/api/v1/auth/refresh`)).find((c) => c.name === 'sg_refresh');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });

    // Back on /login later: still signed in (refresh cookie); sign-out brings the QR back.
    await page.goto(`${publicUrl}/login`);
    expect(await signedInUser(page)).toBe('Li Lei');
    await page.locator('[data-action="sign-out"]').click();
    await page.locator('[data-qr][data-qr-status="pending"]').waitFor();
    await request(t.url)
      .post('/api/v1/auth/refresh')
      .set('Origin', publicUrl)
      .set('Cookie', `sg_refresh=${cookie!.value}`)
      .send({})
      .expect(401);
  });

  it('declined on the phone: the page says so, and "Get a new code" shows a fresh QR', async () => {
    const { page, qr, handset } = await askedOnPhone();
    await handset.locator('[data-action="decline"]').click();
    await handset.locator('[data-view="done"]').waitFor();
    expect(await handset.locator('[data-done-text]').textContent()).toMatch(/Declined/);

    await page.locator('[data-qr][data-qr-status="cancelled"]').waitFor();
    expect(await page.locator('[data-status]').textContent()).toMatch(/declined/);
    await page.screenshot({ path: shot('login-cancelled') });
    await page.locator('[data-action="renew"]').click();
    const fresh = await qrOnScreen(page);
    expect(fresh.id).not.toBe(qr.id);
    await expect(page.locator('[data-action="renew"]').isHidden()).resolves.toBe(true);
  });

  it('signing out on the phone after scanning declines the code, so the computer can get a new one at once', async () => {
    const { page, handset } = await askedOnPhone();
    await page.locator('[data-qr][data-qr-status="scanned"]').waitFor();
    await handset.locator('[data-action="sign-out"]').click();
    await handset.locator('[data-view="sign-in"]:visible').waitFor();
    await page.locator('[data-qr][data-qr-status="cancelled"]').waitFor();
    await page.locator('[data-action="renew"]').waitFor({ state: 'visible' });
  });

  it('a refused QR creation shows the protocol error in the page language, and the new-code button recovers', async () => {
    const page = await (await context(desktopOptions)).newPage();
    let refused = 0;
    await page.route('**/api/v1/qr-sessions', (route) => {
      if (route.request().method() !== 'POST' || refused++ > 0) return route.fallback();
      return route.fulfill({
        status: 429,
        contentType: 'application/json',
        headers: { 'Retry-After': '30' },
        body: JSON.stringify({ code: 'rate_limited', message: 'Too many QR codes.', requestId: 'r' }),
      });
    });
    await page.goto(`${publicUrl}/login`);
    await page.locator('[data-error]:visible').waitFor();
    expect(await page.locator('[data-error]').textContent()).toBe('Too many attempts. Wait a moment and try again.');
    await page.locator('[data-action="renew"]').click();
    await qrOnScreen(page);
    expect(await page.locator('[data-error]').isHidden()).toBe(true);
  });

  it('the wrong number cancels the login on both sides', async () => {
    const { page, qr, handset } = await askedOnPhone();
    const wrong = (await choicesOn(handset)).find((c) => c !== qr.code)!;
    await handset.locator('[data-action="confirm"]').click(); // nothing picked yet: asked to pick first
    await handset.locator('[data-ask-error]:visible').waitFor();
    expect(await handset.locator('[data-ask-error]').textContent()).toMatch(/Pick the number/);
    await handset.locator(`[data-match-choice="${wrong}"]`).click();
    await handset.locator('[data-action="confirm"]').click();
    await handset.locator('[data-view="error"]').waitFor();
    expect(await handset.locator('[data-error-text]').textContent()).toMatch(/not the number/);
    await page.locator('[data-qr][data-qr-status="cancelled"]').waitFor();
  });

  it('warns on the phone when the computer asking is on another network (a QRLJacking sign)', async () => {
    const { login } = await createUser(t);
    const page = await (
      await context({ ...desktopOptions, extraHTTPHeaders: { 'X-Forwarded-For': '203.0.113.5' } })
    ).newPage();
    await page.goto(`${publicUrl}/login`);
    const qr = await qrOnScreen(page);
    const handset = await openOnPhone(
      await context({ ...phoneOptions, extraHTTPHeaders: { 'X-Forwarded-For': '198.51.100.7' } }),
      qr.url,
      login,
    );
    await handset.locator('[data-risk-warning]').waitFor({ state: 'visible' });
    expect(await handset.locator('[data-requester="ip"]').textContent()).toBe('203.0.113.5');
    await handset.screenshot({ path: shot('phone-ask-network-mismatch') });
    // From the same network (same /24): no warning.
    const nearPage = await (
      await context({ ...desktopOptions, extraHTTPHeaders: { 'X-Forwarded-For': '203.0.113.6' } })
    ).newPage();
    await nearPage.goto(`${publicUrl}/login`);
    const nearQr = await qrOnScreen(nearPage);
    const near = await openOnPhone(
      await context({ ...phoneOptions, extraHTTPHeaders: { 'X-Forwarded-For': '203.0.113.77' } }),
      nearQr.url,
      login,
    );
    expect(await near.locator('[data-risk-warning]').isHidden()).toBe(true);
  });

  it('with WebSockets blocked, it follows the login over HTTP long polls and still signs in', async () => {
    const { login } = await createUser(t, { displayName: 'Han Meimei' });
    const desktop = await context(desktopOptions);
    await desktop.routeWebSocket(/\/socket\.io\//, (ws) => ws.close({ code: 1008, reason: 'blocked by a proxy' }));
    const longPolls: string[] = [];
    desktop.on(
      'request',
      (r) => /\/api\/v1\/qr-sessions\/[^/]+\?waitSeconds=/.test(r.url()) && longPolls.push(r.url()),
    );
    const phone = await context(phoneOptions);
    const page = await desktop.newPage();
    await page.goto(`${publicUrl}/login`);
    const qr = await qrOnScreen(page);
    await page.locator('[data-qr][data-qr-transport="long-poll"]').waitFor({ timeout: 10_000 });
    await page.locator('[data-transport-note]').waitFor({ state: 'visible' });
    await page.screenshot({ path: shot('login-long-poll') });

    const handset = await openOnPhone(phone, qr.url, login);
    await page.locator('[data-qr][data-qr-status="scanned"]').waitFor();
    await confirmOnPhone(handset, qr.code);
    expect(await signedInUser(page, 10_000)).toBe('Han Meimei');
    expect(longPolls.length).toBeGreaterThan(0);
    expect(longPolls.every((url) => url.includes(qr.id))).toBe(true);
  });

  it('the password form signs in too, and goes on to a valid returnTo', async () => {
    const { login } = await createUser(t);
    const page = await (await context(desktopOptions)).newPage();
    await page.goto(`${publicUrl}/login?returnTo=${encodeURIComponent('/health/live')}`);
    await qrOnScreen(page);
    await page.locator('details.password summary').click();
    await page.locator('[data-form="password"] input[name="login"]').fill(login);
    await page.locator('[data-form="password"] input[name="password"]').fill('not the password');
    await page.locator('[data-form="password"] button[type="submit"]').click();
    await page.locator('[data-form-error]:visible').waitFor();
    expect(await page.locator('[data-form-error]').textContent()).toBe('Wrong login or password.');
    await page.locator('[data-form="password"] input[name="password"]').fill(TEST_PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${publicUrl}/health/live`);
  });

  it('renders in Simplified Chinese for a zh-CN browser, on both pages', async () => {
    const { login } = await createUser(t, { displayName: '李雷' });
    const desktop = await context({ ...desktopOptions, locale: 'zh-CN' });
    const phone = await context({ ...phoneOptions, locale: 'zh-CN' });
    const page = await desktop.newPage();
    await page.goto(`${publicUrl}/login`);
    const qr = await qrOnScreen(page, 'login-zh-CN');
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    expect(await page.locator('h1').first().textContent()).toBe('扫码登录');
    expect(await page.locator('[data-status]').textContent()).toBe('等待手机扫码。');
    const handset = await openOnPhone(phone, qr.url, login, { signIn: 'phone-sign-in-zh-CN', ask: 'phone-ask-zh-CN' });
    expect(await handset.locator('[data-action="confirm"]').textContent()).toBe('确认登录');
    await confirmOnPhone(handset, qr.code);
    expect(await signedInUser(page, 10_000)).toBe('李雷');
    expect(await page.locator('[data-view="signed-in"] h1').textContent()).toBe('您已登录');
    await page.screenshot({ path: shot('signed-in-zh-CN') });
    // The switch goes back to English and stays there.
    await page.locator('nav.languages a[lang="en"]').click();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
  });

  it('is usable from the keyboard alone: tab to the password form, type, and sign in', async () => {
    const { login } = await createUser(t, { displayName: 'Keyboard User' });
    const page = await (await context(desktopOptions)).newPage();
    await page.goto(`${publicUrl}/login`);
    await qrOnScreen(page);
    await page.locator('details.password summary').focus();
    await page.keyboard.press('Enter'); // opens the form
    await page.keyboard.press('Tab');
    await page.keyboard.type(login);
    await page.keyboard.press('Tab');
    await page.keyboard.type(TEST_PASSWORD);
    await page.keyboard.press('Enter');
    expect(await signedInUser(page)).toBe('Keyboard User');
    // Focus moved to the sign-out button, which Enter activates.
    await page.keyboard.press('Enter');
    await page.locator('[data-qr][data-qr-status="pending"]').waitFor();
  });
});

describeWith(CHROMIUM_NEED, 'login page in Chromium: a QR code that expires while the page is open', () => {
  let t: TestApp;
  let chromium: Browser;

  beforeAll(async () => {
    t = await createTestApp({ config: testConfig({ LOG_LEVEL: 'warn', QR_TTL_SECONDS: '3', RATE_LIMITS: 'off' }) });
    chromium = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await chromium?.close();
    await t?.close();
  });

  it('is renewed by itself: a new QR code (new id) without any click', async () => {
    const desktop = await chromium.newContext(desktopOptions);
    try {
      const page = await desktop.newPage();
      const statuses: string[] = [];
      await page.exposeFunction('recordStatus', (s: string) => statuses.push(s));
      await page.goto(`${t.url}/login`);
      await page.locator('[data-qr][data-qr-status="pending"]').waitFor();
      const first = await qrIdOf(page);
      await page.evaluate(`(() => {
        const box = document.querySelector('[data-qr]');
        new MutationObserver(() => window.recordStatus(box.getAttribute('data-qr-status'))).observe(box, { attributes: true, attributeFilter: ['data-qr-status'] });
      })()`);
      await page.locator(`img[data-qr-image]:not([src*="${first}"])`).waitFor({ timeout: 15_000 });
      expect(await statusOf(page)).toBe('pending');
      expect(statuses).toContain('expired');
      expect(await page.locator('[data-action="renew"]').isHidden()).toBe(true);
    } finally {
      await desktop.close();
    }
  });
});

describeWith(CHROMIUM_NEED, 'phone page in Chromium on plain http from another host (no WebCrypto)', () => {
  let t: TestApp;
  let chromium: Browser;
  let lanUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    // A name that is not loopback: Chromium treats the page as insecure, as a phone on the LAN would.
    lanUrl = `http://scangate-lan.test:${port}`;
    t = await createTestApp({
      config: testConfig({ LOG_LEVEL: 'warn', PORT: String(port), PUBLIC_URL: lanUrl, RATE_LIMITS: 'off' }),
      listenOnConfigPort: true,
    });
    chromium = await launchChromium(['--host-resolver-rules=MAP scangate-lan.test 127.0.0.1']);
  }, 180_000);

  afterAll(async () => {
    await chromium?.close();
    await t?.close();
  });

  it('says it cannot hold a device key, and signs in keyless where the server allows it (development)', async () => {
    const { user, login } = await createUser(t, { displayName: 'LAN Phone' });
    const desktop = await chromium.newContext(desktopOptions);
    const phone = await chromium.newContext(phoneOptions);
    try {
      const page = await desktop.newPage();
      await page.goto(`${lanUrl}/login`);
      const qr = await qrOnScreen(page);
      expect(qr.url).toBe(`${lanUrl}/m/qr/${qr.id}`);
      const handset = await phone.newPage();
      await handset.goto(qr.url);
      expect(await handset.evaluate('window.isSecureContext')).toBe(false);
      await handset.locator('[data-insecure]').waitFor({ state: 'visible' });
      await handset.screenshot({ path: shot('phone-sign-in-insecure') });
      await handset.close();
      const confirms: Array<Record<string, string>> = [];
      phone.on('request', (r) => r.url().endsWith('/confirm') && confirms.push(r.headers()));
      const asking = await openOnPhone(phone, qr.url, login);
      await confirmOnPhone(asking, qr.code);
      expect(await signedInUser(page)).toBe('LAN Phone');
      expect(confirms[0]!['x-device-signature']).toBeUndefined();
      const [mobile] = await t.app
        .get(DataSource)
        .query(`SELECT device_public_key FROM sessions WHERE user_id = $1 AND kind = 'mobile'`, [user.id]);
      expect(mobile.device_public_key).toBeNull();
    } finally {
      await desktop.close();
      await phone.close();
    }
  });
});

describeWith(
  CHROMIUM_NEED ?? REAL_SERVICES_NEED,
  'login page in Chromium across a server restart (real Postgres and Redis)',
  () => {
    let backend: Awaited<ReturnType<typeof realBackend>>;
    let seed: TestApp;
    let chromium: Browser;
    let env: Record<string, string>;
    let server: ServerProcess;
    let url: string;

    beforeAll(async () => {
      assertBuilt();
      backend = await realBackend('sgtest-pages-');
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      env = {
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(port),
        PUBLIC_URL: url,
        LOG_LEVEL: 'warn',
        RATE_LIMITS: 'off',
        ...backend.env,
      };
      seed = await createTestApp({ config: testConfig({ ...env, PORT: '3000', LOG_LEVEL: 'silent' }) });
      server = startServer(env);
      await waitForOk(`${url}/health/ready`, 90_000, server.exited);
      chromium = await launchChromium();
    }, 180_000);

    afterAll(async () => {
      await chromium?.close();
      await stopStartedServers();
      await seed?.close();
      await backend?.dispose();
    });

    it('the server restarts between scan and confirm: the page reconnects and still signs in', async () => {
      const { login } = await createUser(seed, { displayName: 'Restart Survivor' });
      const desktop = await chromium.newContext(desktopOptions);
      const phone = await chromium.newContext(phoneOptions);
      try {
        const page = await desktop.newPage();
        await page.goto(`${url}/login`);
        const qr = await qrOnScreen(page);
        const handset = await openOnPhone(phone, qr.url, login);
        await page.locator('[data-qr][data-qr-status="scanned"]').waitFor();

        // A deploy: the process stops (SIGTERM, graceful) and a new one starts on the same port.
        server.child.kill('SIGTERM');
        await server.exited;
        server = startServer(env);
        await waitForOk(`${url}/health/ready`, 90_000, server.exited);

        // The QR session lived in Redis: same code, same state, and the phone's session still works.
        await confirmOnPhone(handset, qr.code);
        expect(await signedInUser(page, 15_000)).toBe('Restart Survivor');
        expect(await qrIdOf(page)).toBe(qr.id);
      } finally {
        await desktop.close();
        await phone.close();
      }
    });
  },
);
