import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { bearer, createUser, loginWeb } from '../support/accounts.js';
import type { TestApp } from '../support/create-test-app.js';
import { Browser } from '../support/browser.js';
import { decideAs, oauthTestApp, signedInUser, startAt as startFlow } from '../support/oauth-flow.js';
import { backends, describeWith } from '../support/services.js';

/**
 * WeChat website login end to end through its sandbox, over real HTTP, as a
 * browser with a cookie jar would: our authorize → the sandbox's qrconnect
 * page → the sandbox phone approves → back to our callback → signed in (or
 * linked), and every way it must fail.
 */

describe.each(backends('wx'))('WeChat login through its sandbox on %s', (_name, need, backend) => {
  describeWith(need, 'flow, accounts and failures', () => {
    let t: TestApp;
    let dispose: () => Promise<void>;
    let publicUrl: string;

    beforeAll(async () => {
      const b = await backend();
      dispose = b.dispose;
      ({ t, publicUrl } = await oauthTestApp(b.env, b.database));
    });

    afterAll(async () => {
      await t?.close();
      await dispose?.();
    });

    const startAt = (browser: Browser, path = '/api/v1/oauth/wechat/authorize?returnTo=/after') =>
      startFlow(browser, path);
    const approveAs = (browser: Browser, flow: { pageUrl: string; phoneUrl: string }, user = 'lihua') =>
      decideAs(browser, flow, user);
    const signedIn = (browser: Browser) => signedInUser(t.url, publicUrl, browser);

    it('lists WeChat as enabled through its sandbox, with both names', async () => {
      const res = await request(t.url).get('/api/v1/oauth/providers').set('Accept-Language', 'zh-CN').expect(200);
      expect(res.body).toContainEqual({
        id: 'wechat',
        name: '微信',
        names: { en: 'WeChat', 'zh-CN': '微信' },
        enabled: true,
        sandbox: true,
      });
    });

    it('builds the qrconnect URL with every parameter, binds the state to an HttpOnly cookie, and answers JSON on request', async () => {
      const browser = new Browser(t.url);
      const start = await browser.get('/api/v1/oauth/wechat/authorize?returnTo=/x');
      const url = new URL(start.headers.location!);
      expect(`${url.origin}${url.pathname}`).toBe(`${publicUrl}/sandbox/wechat/connect/qrconnect`);
      expect(url.hash).toBe('#wechat_redirect');
      expect(Object.fromEntries(url.searchParams)).toEqual({
        appid: expect.stringMatching(/^wx/),
        redirect_uri: `${publicUrl}/api/v1/oauth/wechat/callback`,
        response_type: 'code',
        scope: 'snsapi_login',
        state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      });
      expect(String(start.headers['set-cookie'])).toMatch(
        /sg_oauth=[A-Za-z0-9_-]{43}; Max-Age=600; Path=\/api\/v1; Expires=[^;]+; HttpOnly; SameSite=Lax/,
      );
      const json = await browser.get('/api/v1/oauth/wechat/authorize?format=json', 'application/json');
      expect(json.status).toBe(200);
      expect(json.body.url).toMatch(/\/sandbox\/wechat\/connect\/qrconnect\?/);
    });

    it('signs in a new person (a new user, no merging), then finds the same user again; no token in any URL', async () => {
      const browser = new Browser(t.url);
      const flow = await startAt(browser);
      const callback = await approveAs(browser, flow);
      expect(callback).toMatch(
        new RegExp(`^${publicUrl}/api/v1/oauth/wechat/callback\\?code=[A-Za-z0-9x]+&state=${flow.state}$`),
      );
      const done = await browser.get(callback);
      expect(done.status).toBe(302);
      expect(done.headers.location).toBe('/after');
      expect(String(done.headers['set-cookie'])).toMatch(/sg_refresh=.*HttpOnly/);
      expect(done.headers.location).not.toMatch(/token|code/i);
      const first = await signedIn(browser);
      expect(first).toMatchObject({ displayName: '李华 (sandbox)', login: expect.stringMatching(/^wechat\./) });

      const again = new Browser(t.url);
      await again.get(await approveAs(again, await startAt(again)));
      expect((await signedIn(again)).id).toBe(first.id);

      const identities = (await t.app
        .get(DataSource)
        .query(`SELECT provider, subject, subject_kind, profile FROM identities WHERE user_id = $1`, [
          first.id,
        ])) as Array<Record<string, unknown>>;
      expect(identities).toEqual([
        {
          provider: 'wechat',
          subject: 'oUnionSandboxLiHua0000000001',
          subject_kind: 'unionid',
          profile: expect.objectContaining({ openid: expect.stringMatching(/^o/) }),
        },
      ]);
      expect(JSON.stringify(identities)).not.toMatch(/access_token|refresh_token/);
      const audit = (await t.app
        .get(DataSource)
        .query(`SELECT type, detail FROM audit_events WHERE user_id = $1 AND type = 'auth.login_succeeded'`, [
          first.id,
        ])) as Array<{ detail: { method: string } }>;
      expect(audit.map((a) => a.detail.method)).toEqual(['oauth:wechat', 'oauth:wechat']);
    });

    it('refuses a replayed state, a state from another browser, and a callback without a state', async () => {
      const browser = new Browser(t.url);
      const callback = await approveAs(browser, await startAt(browser));
      expect((await browser.get(callback)).headers.location).toBe('/after');
      const replay = await browser.get(callback);
      expect(replay.headers.location).toBe('/login?error=oauth.state_invalid');
      const json = await browser.get(callback, 'application/json');
      expect(json.status).toBe(400);
      expect(json.body).toMatchObject({ code: 'oauth.state_invalid' });

      const victim = new Browser(t.url);
      const stolen = await approveAs(victim, await startAt(victim));
      const attacker = new Browser(t.url);
      expect((await attacker.get(stolen)).headers.location).toBe('/login?error=oauth.state_invalid');
      // The state was burnt by the attempt: the victim starts again too.
      expect((await victim.get(stolen)).headers.location).toBe('/login?error=oauth.state_invalid');
      expect((await browser.get('/api/v1/oauth/wechat/callback?code=abc')).headers.location).toBe(
        '/login?error=oauth.state_invalid',
      );
    });

    it('answers a used code (40163) and a cancel (no code) with oauth.code_invalid', async () => {
      const browser = new Browser(t.url);
      const used = new URL(await approveAs(browser, await startAt(browser)));
      await browser.get(used.toString());
      const fresh = await startAt(browser);
      const reuse = `/api/v1/oauth/wechat/callback?code=${used.searchParams.get('code')}&state=${fresh.state}`;
      expect((await browser.get(reuse)).headers.location).toBe('/login?error=oauth.code_invalid');

      const cancelled = await startAt(browser);
      await browser.postForm(cancelled.phoneUrl, { decision: 'cancel', user: 'lihua' });
      expect((await browser.get(cancelled.pageUrl)).text).toContain('data-qr-status="cancelled"');
      // WeChat's legacy behaviour: back with the state only.
      expect((await browser.get(`/api/v1/oauth/wechat/callback?state=${cancelled.state}`)).headers.location).toBe(
        '/login?error=oauth.code_invalid',
      );
    });

    it.each([
      ['a refused AppSecret (40125)', { errcode: 40125 }],
      ['a system error (-1)', { errcode: -1 }],
      ['a body that is not JSON', { malformed: true }],
      ['no answer within OAUTH_TIMEOUT_MS', { delayMs: 1_500 }],
    ])('answers %s with oauth.upstream and signs nobody in', async (_case, fault) => {
      const browser = new Browser(t.url);
      const callback = await approveAs(browser, await startAt(browser));
      await request(t.url).post('/sandbox/wechat/__sim/faults').send(fault).expect(200);
      try {
        const res = await browser.get(callback, 'application/json');
        expect(res.status).toBe(502);
        expect(res.body).toMatchObject({ code: 'oauth.upstream' });
        expect(browser.cookie('sg_refresh')).toBeUndefined();
      } finally {
        await request(t.url).post('/sandbox/wechat/__sim/faults').send({}).expect(200);
      }
    });

    it('never redirects elsewhere: a foreign returnTo falls back to /', async () => {
      const browser = new Browser(t.url);
      const flow = await startAt(
        browser,
        `/api/v1/oauth/wechat/authorize?returnTo=${encodeURIComponent('https://evil.example/x')}`,
      );
      expect((await browser.get(await approveAs(browser, flow))).headers.location).toBe('/');
      const slashes = new Browser(t.url);
      const flow2 = await startAt(
        slashes,
        `/api/v1/oauth/wechat/authorize?returnTo=${encodeURIComponent('//evil.example')}`,
      );
      expect((await slashes.get(await approveAs(slashes, flow2))).headers.location).toBe('/');
    });

    it('links WeChat to a signed-in user, refuses a person linked to someone else, and keeps the last way in', async () => {
      const { login } = await createUser(t);
      const web = await loginWeb(t, login);
      const browser = new Browser(t.url);
      const started = await request(t.url)
        .post('/api/v1/me/identities/wechat/authorize?returnTo=/settings')
        .set(bearer(web.accessToken))
        .expect(200);
      browser.keep(started);
      const back = await approveAs(browser, await startFlow(browser, started.body.url), 'wangfang');
      expect((await browser.get(back)).headers.location).toBe('/settings');
      const linked = await request(t.url).get('/api/v1/me/identities').set(bearer(web.accessToken)).expect(200);
      expect(JSON.stringify(linked.body)).toContain('wechat');

      // The same WeChat person for another user: refused.
      const other = await loginWeb(t, (await createUser(t)).login);
      const again = await request(t.url)
        .post('/api/v1/me/identities/wechat/authorize')
        .set(bearer(other.accessToken))
        .expect(200);
      const b2 = new Browser(t.url);
      b2.keep(again);
      expect(
        (await b2.get(await approveAs(b2, await startFlow(b2, again.body.url), 'wangfang'))).headers.location,
      ).toBe('/login?error=oauth.identity_conflict');

      // Its owner (who has a password too) may unlink it; both steps are audited.
      const mine = (await request(t.url).get('/api/v1/me/identities').set(bearer(web.accessToken)).expect(200)).body
        .items as Array<{ id: string; provider: string }>;
      await request(t.url)
        .delete(`/api/v1/me/identities/${mine.find((i) => i.provider === 'wechat')!.id}`)
        .set(bearer(web.accessToken))
        .expect(204);
      const unlinked = (await t.app
        .get(DataSource)
        .query(
          `SELECT type FROM audit_events WHERE type IN ('identity.linked', 'identity.unlinked') AND user_id = $1 ORDER BY at`,
          [(await request(t.url).get('/api/v1/me').set(bearer(web.accessToken))).body.id],
        )) as Array<{ type: string }>;
      expect(unlinked.map((r) => r.type)).toEqual(['identity.linked', 'identity.unlinked']);

      // A user who exists only through WeChat cannot unlink it.
      const only = new Browser(t.url);
      await only.get(await approveAs(only, await startAt(only), 'zhangwei'));
      const me = await signedIn(only);
      const ids = await request(t.url).get('/api/v1/me/identities').set(bearer(me.accessToken)).expect(200);
      const id = ((ids.body.items ?? ids.body) as Array<{ id: string }>)[0]!.id;
      const refused = await request(t.url).delete(`/api/v1/me/identities/${id}`).set(bearer(me.accessToken));
      expect(refused.body.code).toBe('identity.last_method');
    });

    it('an unknown provider is oauth.provider_disabled', async () => {
      const res = await request(t.url)
        .get('/api/v1/oauth/myspace/authorize')
        .set('Accept', 'application/json')
        .expect(404);
      expect(res.body.code).toBe('oauth.provider_disabled');
    });

    it('never logs the AppSecret, a code or a state', () => {
      const text = t.log.text;
      const leaks = text
        .split('\n')
        .filter((l) => /secret=[A-Za-z0-9_-]{10}|[?&](code|state)=[A-Za-z0-9_-]{10}/.test(l));
      expect(leaks).toEqual([]);
      expect(text).not.toMatch(/secret=[A-Za-z0-9_-]{10}/);
      expect(text).not.toMatch(/[?&](code|state)=[A-Za-z0-9_-]{10}/);
    });
  });
});
