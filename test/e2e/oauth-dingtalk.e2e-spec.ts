import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { OAUTH_CONFIG, type OAuthConfig } from '../../src/config/config.types.js';
import { DingtalkProvider } from '../../src/oauth/providers/dingtalk/dingtalk.provider.js';
import { UpstreamHttp } from '../../src/oauth/upstream.http.js';
import { DINGTALK_SANDBOX_CORP } from '../../src/sandboxes/dingtalk/dingtalk.sandbox.js';
import { PLUGGED_PROVIDER_SETTINGS, type ProviderSettingsById } from '../../src/oauth/provider-settings.js';
import { bearer, createUser, loginWeb } from '../support/accounts.js';
import { Browser } from '../support/browser.js';
import type { TestApp } from '../support/create-test-app.js';
import { decideAs, oauthTestApp, signedInUser, startAt } from '../support/oauth-flow.js';
import { backends, describeWith } from '../support/services.js';

/**
 * DingTalk login end to end through its sandbox, over real HTTP: our authorize
 * → the sandbox's `oauth2/auth` page → the sandbox phone agrees → our callback
 * (`authCode`) → signed in or linked; and the ways it must fail.
 */
describe.each(backends('dt'))('DingTalk login through its sandbox on %s', (_name, need, backend) => {
  describeWith(need, 'flow, accounts and failures', () => {
    let t: TestApp;
    let dispose: () => Promise<void>;
    let publicUrl: string;
    const AUTHORIZE = '/api/v1/oauth/dingtalk/authorize?returnTo=/after';

    beforeAll(async () => {
      const b = await backend();
      dispose = b.dispose;
      ({ t, publicUrl } = await oauthTestApp(b.env, b.database));
    });

    afterAll(async () => {
      await t?.close();
      await dispose?.();
    });

    const faults = (body: object) => request(t.url).post('/sandbox/dingtalk/__sim/faults').send(body).expect(200);

    it('lists DingTalk through its sandbox and builds the oauth2/auth URL with every parameter', async () => {
      const listed = await request(t.url).get('/api/v1/oauth/providers').set('Accept-Language', 'en').expect(200);
      expect(listed.body).toContainEqual({
        id: 'dingtalk',
        name: 'DingTalk',
        names: { en: 'DingTalk', 'zh-CN': '钉钉' },
        enabled: true,
        sandbox: true,
      });
      const browser = new Browser(t.url);
      const url = new URL((await browser.get(AUTHORIZE)).headers.location!);
      expect(`${url.origin}${url.pathname}`).toBe(`${publicUrl}/sandbox/dingtalk/oauth2/auth`);
      expect(Object.fromEntries(url.searchParams)).toEqual({
        client_id: expect.stringMatching(/^ding/),
        redirect_uri: `${publicUrl}/api/v1/oauth/dingtalk/callback`,
        response_type: 'code',
        scope: 'openid corpid',
        prompt: 'consent',
        state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      });
    });

    it('signs in a new person once and finds the same user again (subject unionId)', async () => {
      const browser = new Browser(t.url);
      const flow = await startAt(browser, AUTHORIZE);
      const back = await decideAs(browser, flow);
      expect(back).toMatch(
        new RegExp(`^${publicUrl}/api/v1/oauth/dingtalk/callback\\?authCode=([0-9a-f]+)&code=\\1&state=${flow.state}$`),
      );
      expect((await browser.get(back)).headers.location).toBe('/after');
      const first = await signedInUser(t.url, publicUrl, browser);
      expect(first).toMatchObject({ displayName: '李华 (sandbox)', login: expect.stringMatching(/^dingtalk\./) });

      const again = new Browser(t.url);
      await again.get(await decideAs(again, await startAt(again, AUTHORIZE)));
      expect((await signedInUser(t.url, publicUrl, again)).id).toBe(first.id);
      const rows = (await t.app
        .get(DataSource)
        .query(`SELECT subject, subject_kind FROM identities WHERE user_id = $1`, [first.id])) as Array<
        Record<string, string>
      >;
      expect(rows).toEqual([{ subject: 'oUnionSandboxLiHua0000000001dt', subject_kind: 'unionId' }]);
    });

    it('answers a declined login and a used authCode with oauth.code_invalid, a replayed state with oauth.state_invalid', async () => {
      const browser = new Browser(t.url);
      const declined = await decideAs(browser, await startAt(browser, AUTHORIZE), 'lihua', 'decline');
      expect(declined).toMatch(/\?error=access_denied&state=/);
      expect((await browser.get(declined)).headers.location).toBe('/login?error=oauth.code_invalid');

      const used = new URL(await decideAs(browser, await startAt(browser, AUTHORIZE)));
      expect((await browser.get(used.toString())).headers.location).toBe('/after');
      expect((await browser.get(used.toString())).headers.location).toBe('/login?error=oauth.state_invalid');
      const fresh = await startAt(browser, AUTHORIZE);
      expect(
        (
          await browser.get(
            `/api/v1/oauth/dingtalk/callback?authCode=${used.searchParams.get('authCode')}&state=${fresh.state}`,
          )
        ).headers.location,
      ).toBe('/login?error=oauth.code_invalid');
    });

    it.each([
      ['a server error (500)', { error: { status: 500, code: 'ServiceUnavailable' } }],
      ['a refused client secret (400 invalidClientSecret)', { error: { status: 400, code: 'invalidClientSecret' } }],
      ['a body that is not JSON', { malformed: true }],
      ['no answer within OAUTH_TIMEOUT_MS', { delayMs: 1_500 }],
    ])('answers %s with oauth.upstream and signs nobody in', async (_case, fault) => {
      const browser = new Browser(t.url);
      const back = await decideAs(browser, await startAt(browser, AUTHORIZE));
      await faults(fault);
      try {
        const res = await browser.get(back, 'application/json');
        expect(res.status).toBe(502);
        expect(res.body).toMatchObject({ code: 'oauth.upstream' });
        expect(browser.cookie('sg_refresh')).toBeUndefined();
      } finally {
        await faults({});
      }
    });

    it('refuses a state from another browser, and never redirects elsewhere', async () => {
      const victim = new Browser(t.url);
      const stolen = await decideAs(victim, await startAt(victim, AUTHORIZE));
      expect((await new Browser(t.url).get(stolen)).headers.location).toBe('/login?error=oauth.state_invalid');
      const browser = new Browser(t.url);
      const away = await decideAs(
        browser,
        await startAt(
          browser,
          `/api/v1/oauth/dingtalk/authorize?returnTo=${encodeURIComponent('https://evil.example/x')}`,
        ),
      );
      expect((await browser.get(away)).headers.location).toBe('/');
    });

    it('keeps the last way in: a DingTalk-only user cannot unlink DingTalk', async () => {
      const browser = new Browser(t.url);
      await browser.get(await decideAs(browser, await startAt(browser, AUTHORIZE), 'zhangwei'));
      const me = await signedInUser(t.url, publicUrl, browser);
      const ids = (await request(t.url).get('/api/v1/me/identities').set(bearer(me.accessToken)).expect(200)).body
        .items as Array<{ id: string }>;
      expect(
        (await request(t.url).delete(`/api/v1/me/identities/${ids[0]!.id}`).set(bearer(me.accessToken))).body.code,
      ).toBe('identity.last_method');
    });

    it('refuses a form body on userAccessToken, as DingTalk does (JSON only)', async () => {
      const res = await request(t.url)
        .post('/sandbox/dingtalk/v1.0/oauth2/userAccessToken')
        .type('form')
        .send({ clientId: 'x' })
        .expect(400);
      expect(res.body).toMatchObject({ code: 'MissingParameter' });
    });

    it('lets only the configured organisation in (provider with a corpId, against the sandbox over HTTP)', async () => {
      const sandbox = t.app.get<ProviderSettingsById>(PLUGGED_PROVIDER_SETTINGS).dingtalk!;
      const restricted = new DingtalkProvider(
        { ...sandbox, corpId: DINGTALK_SANDBOX_CORP },
        new UpstreamHttp(t.app.get<OAuthConfig>(OAUTH_CONFIG)),
      );
      const codeOf = async (user: string) => {
        const browser = new Browser(t.url);
        return new URL(await decideAs(browser, await startAt(browser, AUTHORIZE), user)).searchParams.get('authCode')!;
      };
      await expect(restricted.profile(await codeOf('lihua'))).resolves.toMatchObject({
        profile: expect.objectContaining({ corpId: DINGTALK_SANDBOX_CORP }),
      });
      await expect(restricted.profile(await codeOf('zhangwei'))).rejects.toMatchObject({ failure: 'not_allowed' });
    });

    it('links DingTalk to a signed-in user and refuses the same person for another user', async () => {
      const web = await loginWeb(t, (await createUser(t)).login);
      const started = await request(t.url)
        .post('/api/v1/me/identities/dingtalk/authorize?returnTo=/settings')
        .set(bearer(web.accessToken))
        .expect(200);
      const browser = new Browser(t.url);
      browser.keep(started);
      expect(
        (await browser.get(await decideAs(browser, await startAt(browser, started.body.url), 'wangfang'))).headers
          .location,
      ).toBe('/settings');
      expect(
        JSON.stringify(
          (await request(t.url).get('/api/v1/me/identities').set(bearer(web.accessToken)).expect(200)).body,
        ),
      ).toContain('dingtalk');

      const other = await loginWeb(t, (await createUser(t)).login);
      const again = await request(t.url)
        .post('/api/v1/me/identities/dingtalk/authorize')
        .set(bearer(other.accessToken))
        .expect(200);
      const b2 = new Browser(t.url);
      b2.keep(again);
      expect((await b2.get(await decideAs(b2, await startAt(b2, again.body.url), 'wangfang'))).headers.location).toBe(
        '/login?error=oauth.identity_conflict',
      );
    });

    it('never logs the client secret, a code or a state', () => {
      const leaks = t.log.text
        .split('\n')
        .filter((l) => /clientSecret|secret=[A-Za-z0-9_-]{10}|[?&](code|authCode|state)=[A-Za-z0-9_-]{10}/.test(l));
      expect(leaks).toEqual([]);
    });
  });
});
