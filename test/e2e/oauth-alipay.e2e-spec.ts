import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AlipaySandbox } from '../../src/sandboxes/alipay/alipay.sandbox.js';
import { SANDBOX_USERS } from '../../src/sandboxes/sandbox-users.js';
import { bearer, createUser, loginWeb } from '../support/accounts.js';
import type { TestApp } from '../support/create-test-app.js';
import { Browser } from '../support/browser.js';
import { decideAs, oauthTestApp, signedInUser as signedIn, startAt as startFlow } from '../support/oauth-flow.js';
import { backends, describeWith } from '../support/services.js';

/**
 * Alipay website login end to end through its sandbox, over real HTTP, as a
 * browser with a cookie jar would: our authorize → the sandbox's
 * publicAppAuthorize.htm page → the sandbox phone agrees → back to our
 * callback with `auth_code` → the gateway (signed both ways) → signed in (or
 * linked), and every way it must fail.
 */

describe.each(backends('ali'))('Alipay login through its sandbox on %s', (_name, need, backend) => {
  describeWith(need, 'flow, accounts and failures', () => {
    let t: TestApp;
    let dispose: () => Promise<void>;
    let publicUrl: string;
    let sandbox: AlipaySandbox;

    beforeAll(async () => {
      const b = await backend();
      dispose = b.dispose;
      ({ t, publicUrl } = await oauthTestApp(b.env, b.database));
      sandbox = t.app.get(AlipaySandbox);
    });

    afterAll(async () => {
      await t?.close();
      await dispose?.();
    });

    const startAt = (browser: Browser, path = '/api/v1/oauth/alipay/authorize?returnTo=/after') =>
      startFlow(browser, path);
    const openPage = (browser: Browser, authorizeUrl: string) => startFlow(browser, authorizeUrl);
    const approveAs = (browser: Browser, flow: { pageUrl: string; phoneUrl: string }, user = 'lihua') =>
      decideAs(browser, flow, user);
    const signedInUser = (browser: Browser) => signedIn(t.url, publicUrl, browser);

    async function withFaults<T>(faults: Record<string, unknown>, body: () => Promise<T>): Promise<T> {
      await request(t.url).post('/sandbox/alipay/__sim/faults').send(faults).expect(200);
      try {
        return await body();
      } finally {
        await request(t.url).post('/sandbox/alipay/__sim/faults').send({}).expect(200);
      }
    }

    const user = (key: string) => SANDBOX_USERS.find((u) => u.key === key)!;

    it('lists Alipay as enabled through its sandbox, with both names', async () => {
      const res = await request(t.url).get('/api/v1/oauth/providers').set('Accept-Language', 'zh-CN').expect(200);
      expect(res.body).toContainEqual({
        id: 'alipay',
        name: '支付宝',
        names: { en: 'Alipay', 'zh-CN': '支付宝' },
        enabled: true,
        sandbox: true,
      });
    });

    it('builds the publicAppAuthorize.htm URL with every parameter, binds the state to an HttpOnly cookie, and answers JSON on request', async () => {
      const browser = new Browser(t.url);
      const start = await browser.get('/api/v1/oauth/alipay/authorize?returnTo=/x');
      const url = new URL(start.headers.location!);
      expect(`${url.origin}${url.pathname}`).toBe(`${publicUrl}/sandbox/alipay/oauth2/publicAppAuthorize.htm`);
      expect([...url.searchParams.keys()]).toEqual(['app_id', 'scope', 'redirect_uri', 'state']);
      expect(Object.fromEntries(url.searchParams)).toEqual({
        app_id: sandbox.app.appId,
        scope: 'auth_user',
        redirect_uri: `${publicUrl}/api/v1/oauth/alipay/callback`,
        state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      });
      expect(String(start.headers['set-cookie'])).toMatch(
        /sg_oauth=[A-Za-z0-9_-]{43}; Max-Age=600; Path=\/api\/v1; Expires=[^;]+; HttpOnly; SameSite=Lax/,
      );
      const json = await browser.get('/api/v1/oauth/alipay/authorize?format=json', 'application/json');
      expect(json.status).toBe(200);
      expect(json.body.url).toMatch(/\/sandbox\/alipay\/oauth2\/publicAppAuthorize\.htm\?app_id=/);
    });

    it('signs in a new person by open_id (a new user, no merging), then finds the same user again; no token in any URL', async () => {
      const browser = new Browser(t.url);
      const flow = await startAt(browser);
      const callback = await approveAs(browser, flow);
      expect(callback).toMatch(
        new RegExp(
          `^${publicUrl}/api/v1/oauth/alipay/callback\\?app_id=${sandbox.app.appId}&source=alipay_wallet&scope=auth_user&auth_code=[0-9a-f]{32}&state=${flow.state}$`,
        ),
      );
      const done = await browser.get(callback);
      expect(done.status).toBe(302);
      expect(done.headers.location).toBe('/after');
      expect(String(done.headers['set-cookie'])).toMatch(/sg_refresh=.*HttpOnly/);
      expect(done.headers.location).not.toMatch(/token|code/i);
      const first = await signedInUser(browser);
      expect(first).toMatchObject({ displayName: '李华 (sandbox)', login: expect.stringMatching(/^alipay\./) });

      const again = new Browser(t.url);
      await again.get(await approveAs(again, await startAt(again)));
      expect((await signedInUser(again)).id).toBe(first.id);

      const openId = sandbox.openId(sandbox.app.appId, user('lihua'));
      const identities = (await t.app
        .get(DataSource)
        .query(`SELECT provider, subject, subject_kind, profile FROM identities WHERE user_id = $1`, [
          first.id,
        ])) as Array<Record<string, unknown>>;
      expect(identities).toEqual([
        {
          provider: 'alipay',
          subject: openId,
          subject_kind: 'open_id',
          profile: expect.objectContaining({ open_id: openId, nick_name: '李华 (sandbox)' }),
        },
      ]);
      expect(JSON.stringify(identities)).not.toMatch(/authusrB|access_token|refresh_token/);
      const audit = (await t.app
        .get(DataSource)
        .query(`SELECT type, detail FROM audit_events WHERE user_id = $1 AND type = 'auth.login_succeeded'`, [
          first.id,
        ])) as Array<{ detail: { method: string } }>;
      expect(audit.map((a) => a.detail.method)).toEqual(['oauth:alipay', 'oauth:alipay']);
    });

    it('keys a legacy (non-OpenID) app’s people by user_id', async () => {
      sandbox.idMode = 'user_id';
      try {
        const browser = new Browser(t.url);
        await browser.get(await approveAs(browser, await startAt(browser), 'wangfang'));
        const me = await signedInUser(browser);
        const identities = (await t.app
          .get(DataSource)
          .query(`SELECT subject, subject_kind FROM identities WHERE user_id = $1`, [me.id])) as Array<
          Record<string, unknown>
        >;
        expect(identities).toEqual([{ subject: sandbox.userId(user('wangfang')), subject_kind: 'user_id' }]);
        expect(identities[0]!.subject).toMatch(/^2088\d{12}$/);
      } finally {
        sandbox.idMode = 'open_id';
      }
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
      expect((await browser.get('/api/v1/oauth/alipay/callback?auth_code=abc')).headers.location).toBe(
        '/login?error=oauth.state_invalid',
      );
    });

    it('answers a used auth_code (isv.code-invalid), a cancel, and a `code` instead of `auth_code` with oauth.code_invalid', async () => {
      const browser = new Browser(t.url);
      const used = new URL(await approveAs(browser, await startAt(browser)));
      await browser.get(used.toString());
      // Another browser, with a state of its own, replays the used code: Alipay refuses it.
      const replayer = new Browser(t.url);
      const fresh = await startAt(replayer);
      const reuse = `/api/v1/oauth/alipay/callback?app_id=${sandbox.app.appId}&source=alipay_wallet&scope=auth_user&auth_code=${used.searchParams.get('auth_code')}&state=${fresh.state}`;
      expect((await replayer.get(reuse)).headers.location).toBe('/login?error=oauth.code_invalid');
      expect(replayer.cookie('sg_refresh')).toBeUndefined();

      const cancelled = await startAt(browser);
      await browser.postForm(cancelled.phoneUrl, { decision: 'cancel', user: 'lihua' });
      expect((await browser.get(cancelled.pageUrl)).text).toContain('data-qr-status="cancelled"');
      // Alipay sends nobody back on cancel; a callback without auth_code is refused all the same.
      expect((await browser.get(`/api/v1/oauth/alipay/callback?state=${cancelled.state}`)).headers.location).toBe(
        '/login?error=oauth.code_invalid',
      );

      const wrongName = await startAt(browser);
      const approved = new URL(await approveAs(browser, wrongName));
      const asCode = `/api/v1/oauth/alipay/callback?code=${approved.searchParams.get('auth_code')}&state=${wrongName.state}`;
      expect((await browser.get(asCode)).headers.location).toBe('/login?error=oauth.code_invalid');
    });

    it('a code burnt by a failed exchange stays burnt (oauth.upstream, then oauth.code_invalid)', async () => {
      const browser = new Browser(t.url);
      const flow = await startAt(browser);
      const callback = new URL(await approveAs(browser, flow));
      await withFaults({ subCode: 'isp.unknow-error' }, async () => {
        const res = await browser.get(callback.toString(), 'application/json');
        expect(res.status).toBe(502);
        expect(res.body).toMatchObject({ code: 'oauth.upstream' });
      });
      const again = await startAt(browser);
      callback.searchParams.set('state', again.state);
      expect((await browser.get(callback.toString())).headers.location).toBe('/login?error=oauth.code_invalid');
    });

    it.each([
      ['an unsigned success answer', { unsigned: true }],
      ['a success answer signed by another key than ALIPAY_PUBLIC_KEY', { wrongSignature: true }],
      ['our request signature refused (isv.invalid-signature)', { subCode: 'isv.invalid-signature' }],
      ['a system error (isp.unknow-error)', { subCode: 'isp.unknow-error' }],
      ['a body that is not JSON', { malformed: true }],
      ['no answer within OAUTH_TIMEOUT_MS', { delayMs: 1_500 }],
    ])('answers %s with oauth.upstream and signs nobody in', async (_case, fault) => {
      const browser = new Browser(t.url);
      const callback = await approveAs(browser, await startAt(browser));
      await withFaults(fault, async () => {
        const res = await browser.get(callback, 'application/json');
        expect(res.status).toBe(502);
        expect(res.body).toMatchObject({ code: 'oauth.upstream' });
        expect(browser.cookie('sg_refresh')).toBeUndefined();
      });
    });

    it('answers an error_response isv.code-invalid with oauth.code_invalid even when it is unsigned', async () => {
      const browser = new Browser(t.url);
      const callback = await approveAs(browser, await startAt(browser));
      await withFaults({ subCode: 'isv.code-invalid', unsigned: true }, async () => {
        const res = await browser.get(callback, 'application/json');
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({ code: 'oauth.code_invalid' });
        expect(browser.cookie('sg_refresh')).toBeUndefined();
      });
    });

    it('never redirects elsewhere: a foreign returnTo falls back to /', async () => {
      const browser = new Browser(t.url);
      const flow = await startAt(
        browser,
        `/api/v1/oauth/alipay/authorize?returnTo=${encodeURIComponent('https://evil.example/x')}`,
      );
      expect((await browser.get(await approveAs(browser, flow))).headers.location).toBe('/');
      const slashes = new Browser(t.url);
      const flow2 = await startAt(
        slashes,
        `/api/v1/oauth/alipay/authorize?returnTo=${encodeURIComponent('//evil.example')}`,
      );
      expect((await slashes.get(await approveAs(slashes, flow2))).headers.location).toBe('/');
    });

    it('links Alipay to a signed-in user, refuses a person linked to someone else, and keeps the last way in', async () => {
      const web = await loginWeb(t, (await createUser(t)).login);
      const browser = new Browser(t.url);
      const started = await request(t.url)
        .post('/api/v1/me/identities/alipay/authorize?returnTo=/settings')
        .set(bearer(web.accessToken))
        .expect(200);
      browser.keep(started);
      const back = await approveAs(browser, await openPage(browser, started.body.url), 'wangfang');
      expect((await browser.get(back)).headers.location).toBe('/settings');
      const linked = await request(t.url).get('/api/v1/me/identities').set(bearer(web.accessToken)).expect(200);
      expect(JSON.stringify(linked.body)).toContain('alipay');

      // The same Alipay person for another user: refused.
      const other = await loginWeb(t, (await createUser(t)).login);
      const again = await request(t.url)
        .post('/api/v1/me/identities/alipay/authorize')
        .set(bearer(other.accessToken))
        .expect(200);
      const b2 = new Browser(t.url);
      b2.keep(again);
      expect((await b2.get(await approveAs(b2, await openPage(b2, again.body.url), 'wangfang'))).headers.location).toBe(
        '/login?error=oauth.identity_conflict',
      );

      // A user who exists only through Alipay cannot unlink it.
      const only = new Browser(t.url);
      await only.get(await approveAs(only, await startAt(only), 'zhangwei'));
      const me = await request(t.url)
        .post('/api/v1/auth/refresh')
        .set('Origin', publicUrl)
        .set('Cookie', only.cookieHeader())
        .send({})
        .expect(200);
      const ids = await request(t.url).get('/api/v1/me/identities').set(bearer(me.body.accessToken)).expect(200);
      const id = ((ids.body.items ?? ids.body) as Array<{ id: string }>)[0]!.id;
      const refused = await request(t.url).delete(`/api/v1/me/identities/${id}`).set(bearer(me.body.accessToken));
      expect(refused.body.code).toBe('identity.last_method');
    });

    it('never logs a key, a code, a state or a token', () => {
      const text = t.log.text;
      const keyLines = sandbox.app.appPrivateKeyPem.split('\n').filter((l) => l.length === 64);
      expect(keyLines.length).toBeGreaterThan(10);
      expect(keyLines.filter((l) => text.includes(l))).toEqual([]);
      const leaks = text
        .split('\n')
        .filter((l) => /[?&](auth_code|code|state|auth_token|sign)=[A-Za-z0-9_%+/-]{10}/.test(l) || /authusrB/.test(l));
      expect(leaks).toEqual([]);
      // The log did see the flows (the check above is not vacuous).
      expect(text).toMatch(/\/api\/v1\/oauth\/alipay\/callback/);
      expect(text).toMatch(/isv\.code-invalid/);
    });
  });
});
