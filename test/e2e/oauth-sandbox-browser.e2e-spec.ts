import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import request from 'supertest';
import { bearer } from '../support/accounts.js';
import { CHROMIUM_NEED, decodeQr, launchChromium, SCREENSHOTS } from '../support/chromium.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { freePort } from '../support/server-process.js';
import { describeWith } from '../support/services.js';
import { testConfig } from '../support/test-config.js';

/**
 * The provider sandboxes in a real browser (Debian's Chromium): a person opens
 * our authorize URL, sees the provider's QR page, and a phone scans the code —
 * decoded here from a screenshot, as a camera would — and approves in another
 * browser context. The first page follows on by itself and ends signed in.
 */
describeWith(CHROMIUM_NEED, 'third-party login pages in Chromium', () => {
  let t: TestApp;
  let chromium: Browser;
  let publicUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    t = await createTestApp({
      config: testConfig({ LOG_LEVEL: 'warn', PORT: String(port), PUBLIC_URL: publicUrl }),
      listenOnConfigPort: true,
    });
    chromium = await launchChromium();
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await chromium?.close();
    await t?.close();
  });

  it.each([
    ['wechat', 'lihua'],
    ['alipay', 'wangfang'],
    ['dingtalk', 'lihua'],
  ])(
    '%s: scan the QR from the screen, approve on the phone, and the page ends signed in',
    async (provider, user) => {
      const desktop = await chromium.newContext({ viewport: { width: 800, height: 900 }, locale: 'zh-CN' });
      const phone = await chromium.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
      try {
        const page = await desktop.newPage();
        await page.goto(
          `${publicUrl}/api/v1/oauth/${provider}/authorize?returnTo=${encodeURIComponent('/api/v1/oauth/providers')}`,
        );
        await page.locator('[data-qr] svg').waitFor();
        const shot = await page.screenshot({ path: join(SCREENSHOTS, `sandbox-${provider}-qr.png`) });
        const scanned = decodeQr(shot);
        expect(scanned).toMatch(new RegExp(`^${publicUrl}/sandbox/${provider}/phone/[A-Za-z0-9_-]+$`));

        const handset = await phone.newPage();
        await handset.goto(scanned!);
        await handset.locator(`input[name="user"][value="${user}"]`).check();
        await handset.screenshot({ path: join(SCREENSHOTS, `sandbox-${provider}-phone.png`) });
        await handset.locator('[data-action="approve"]').click();
        await handset.locator('[data-done]').waitFor();

        // The QR page refreshes itself, follows the approval to our callback, which sends it to returnTo.
        // (WeChat's `#wechat_redirect` rides along through the redirects, as browsers keep a fragment.)
        await page.waitForURL((url) => url.href.startsWith(`${publicUrl}/api/v1/oauth/providers`), { timeout: 10_000 });
        const cookies = await desktop.cookies(`${publicUrl}/api/v1/auth/refresh`);
        const refresh = cookies.find((c) => c.name === 'sg_refresh');
        expect(refresh).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/api/v1/auth' });
        const signedIn = await request(t.url)
          .post('/api/v1/auth/refresh')
          .set('Origin', publicUrl)
          .set('Cookie', `sg_refresh=${refresh!.value}`)
          .send({})
          .expect(200);
        const me = await request(t.url).get('/api/v1/me').set(bearer(signedIn.body.accessToken)).expect(200);
        expect(me.body.displayName).toMatch(/\(sandbox\)$/);
        // No token or code in what the browser was left looking at.
        expect(page.url()).not.toMatch(/code|token|state/i);
      } finally {
        await desktop.close();
        await phone.close();
      }
    },
    30_000,
  );
});
