import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { PROVIDER_DEFINITIONS, PROVIDERS } from '../../src/oauth/oauth.registry.js';
import { ACME, AcmePlatform, PROVIDER_ENV_WITH_ACME } from '../support/acme-provider.js';
import { signedInAs } from '../support/admin.js';
import { bearer } from '../support/accounts.js';
import { Browser } from '../support/browser.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { signedInUser } from '../support/oauth-flow.js';
import { freePort } from '../support/server-process.js';
import { testConfig } from '../support/test-config.js';

/**
 * STYLE.md's promise about providers, kept by a test: a provider ScanGate does
 * not ship ("Acme", `test/support/acme-provider.ts`) is added exactly the
 * documented way (its code, its configuration entry, one more item in the
 * registry's list) and nothing else, and then works like the built-in ones:
 * configured from the environment, listed, signed in through the one
 * controller and Passport strategy, shown to operators with its secret masked.
 */

const SECRET = 'acme-client-secret-0123456789';

describe('a new OAuth provider added the documented way (its folder, its config entry, one registry line)', () => {
  let t: TestApp;
  let acme: AcmePlatform;
  let publicUrl: string;

  beforeAll(async () => {
    acme = new AcmePlatform(SECRET);
    await acme.start();
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    const config = testConfig(
      {
        PORT: String(port),
        PUBLIC_URL: publicUrl,
        SANDBOXES: 'off',
        RATE_LIMITS: 'off',
        ACME_CLIENT_ID: 'scangate-test',
        ACME_CLIENT_SECRET: SECRET,
        ACME_BASE: acme.url,
      },
      {},
      PROVIDER_ENV_WITH_ACME,
    );
    t = await createTestApp({
      config,
      listenOnConfigPort: true,
      override: (builder) => builder.overrideProvider(PROVIDER_DEFINITIONS).useValue([...PROVIDERS, ACME]),
    });
  });

  afterAll(async () => {
    await t?.close();
    await acme?.stop();
  });

  it('validates its variables with the rest of the environment, and wants its credentials together', () => {
    expect(() => testConfig({ ACME_CLIENT_ID: 'Not Valid!' }, {}, PROVIDER_ENV_WITH_ACME)).toThrow(
      /ACME_CLIENT_ID: expected an Acme client id/,
    );
    expect(() => testConfig({ ACME_CLIENT_ID: 'scangate-test' }, {}, PROVIDER_ENV_WITH_ACME)).toThrow(
      /ACME_CLIENT_SECRET: required with ACME_CLIENT_ID/,
    );
    expect(testConfig({}, {}, PROVIDER_ENV_WITH_ACME).oauth).not.toHaveProperty('acme');
  });

  it('is listed with its names after the built-in providers, enabled by its configured credentials', async () => {
    const res = await request(t.url).get('/api/v1/oauth/providers').set('Accept-Language', 'zh-CN').expect(200);
    expect(res.body.map((p: { id: string; enabled: boolean }) => [p.id, p.enabled])).toEqual([
      ['wechat', false],
      ['alipay', false],
      ['dingtalk', false],
      ['acme', true],
    ]);
    expect(res.body[3]).toEqual({
      id: 'acme',
      name: '艾克米',
      names: { en: 'Acme', 'zh-CN': '艾克米' },
      enabled: true,
      sandbox: false,
    });
  });

  it('signs a person in through the one controller and strategy: authorize → platform → callback → web session', async () => {
    const browser = new Browser(t.url);
    const start = await browser.get('/api/v1/oauth/acme/authorize?returnTo=/after');
    expect(start.status).toBe(302);
    const authorize = new URL(start.headers.location!);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${acme.url}/authorize`);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${publicUrl}/api/v1/oauth/acme/callback`);
    const state = authorize.searchParams.get('state')!;

    // The person approves at Acme, which sends the browser back with a code.
    const done = await browser.get(`/api/v1/oauth/acme/callback?code=${acme.issueCode()}&state=${state}`);
    expect(done.status).toBe(302);
    expect(done.headers.location).toBe('/after');
    const user = await signedInUser(t.url, publicUrl, browser);
    expect(user.displayName).toBe('Wile E.');
    const identities = await request(t.url).get('/api/v1/me/identities').set(bearer(user.accessToken)).expect(200);
    expect(identities.body.items).toEqual([expect.objectContaining({ provider: 'acme', subjectKind: 'acme_id' })]);
  });

  it('maps its refusals like any provider: a used code is oauth.code_invalid, and the user is not signed in', async () => {
    const browser = new Browser(t.url);
    const start = await browser.get('/api/v1/oauth/acme/authorize?format=json', 'application/json');
    const state = new URL(start.body.url as string).searchParams.get('state')!;
    const res = await browser.get(`/api/v1/oauth/acme/callback?code=never-issued&state=${state}`, 'application/json');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'oauth.code_invalid' });
  });

  it('is shown to operators with its secret masked, and its live check runs through its own exchange', async () => {
    const admin = await signedInAs(t, ['admin']);
    const list = await request(t.url).get('/api/v1/admin/providers').set(bearer(admin.accessToken)).expect(200);
    const item = (list.body.items as Array<{ id: string }>).find((p) => p.id === 'acme');
    expect(item).toEqual({
      id: 'acme',
      enabled: true,
      sandbox: false,
      config: { clientId: 'scangate-test', clientSecret: `…${SECRET.slice(-4)}`, base: acme.url },
    });
    expect(JSON.stringify(list.body)).not.toContain(SECRET);
    const check = await request(t.url).post('/api/v1/admin/providers/acme/check').set(bearer(admin.accessToken));
    expect(check.status).toBe(200);
    expect(check.body).toMatchObject({ id: 'acme', ok: true, result: 'credentials_valid' });
  });
});
