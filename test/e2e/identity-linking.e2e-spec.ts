import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { bearer, createUser, loginWeb } from '../support/accounts.js';
import { Browser } from '../support/browser.js';
import type { TestApp } from '../support/create-test-app.js';
import { decideAs, oauthTestApp, signedInUser, startAt } from '../support/oauth-flow.js';
import { confirmedQr, exchange, signInPhone } from '../support/qr.js';
import { connectSocket } from '../support/sockets.js';

/**
 * Adding a way to sign in (security review, finding 1): a hijacked session
 * must not plant a permanent way back in. Linking needs a fresh credential
 * (checked at the start and again at the callback), the user's phones are
 * told, a password change offers to remove what was linked since the last
 * one, and an account without a password re-proves itself through a provider
 * already linked. Driven through the WeChat and DingTalk sandboxes.
 */
describe('linking a provider to an account', () => {
  let t: TestApp;
  let publicUrl: string;

  beforeAll(async () => {
    ({ t, publicUrl } = await oauthTestApp({}));
  });

  afterAll(async () => {
    await t?.close();
  });

  /** Starts a link (or reauth) from `browser` with `accessToken`, as a page of ours would (the API call carries the browser's cookies). */
  async function startLinkIn(browser: Browser, accessToken: string, path: string) {
    const res = await request(t.url)
      .post(path)
      .set(bearer(accessToken))
      .set('Cookie', browser.cookieHeader(path.split('?')[0]));
    browser.keep(res);
    return res;
  }

  /** The provider flow of `url` approved as `person`; where our callback sends the browser. */
  async function finish(browser: Browser, url: string, person: string): Promise<string | undefined> {
    const back = await decideAs(browser, await startAt(browser, url), person);
    return (await browser.get(back)).headers.location;
  }

  const identities = async (accessToken: string) =>
    (await request(t.url).get('/api/v1/me/identities').set(bearer(accessToken)).expect(200)).body.items as Array<{
      id: string;
      provider: string;
      subject: string;
    }>;

  it("refuses the reviewer's chain: a session won by QRLJacking cannot link the attacker's WeChat (401 auth.reauth_required)", async () => {
    const { login } = await createUser(t);
    const victimsPhone = await signInPhone(t, login);
    // The attacker's browser shows a real QR; the victim approves it.
    const qr = await confirmedQr(t, victimsPhone);
    const attacker = (await exchange(t, qr.id, qr.pollToken).expect(200)).body.accessToken as string;
    await request(t.url).get('/api/v1/me').set(bearer(attacker)).expect(200);
    const refused = await request(t.url).post('/api/v1/me/identities/wechat/authorize').set(bearer(attacker));
    expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 401, code: 'auth.reauth_required' });
    // Nor can it re-prove itself through a provider: this account has a password.
    expect((await request(t.url).post('/api/v1/auth/reauth/wechat').set(bearer(attacker))).body.code).toBe(
      'auth.forbidden',
    );
    expect(await identities(attacker)).toEqual([]);
  });

  it("links with a fresh password, tells the user's phones (identity.linked), and the phone can unlink it", async () => {
    const { login } = await createUser(t);
    const phone = await signInPhone(t, login);
    const socket = await connectSocket(t.url, '/me', { token: phone.accessToken });
    try {
      const web = await loginWeb(t, login);
      const browser = new Browser(t.url);
      const started = await startLinkIn(
        browser,
        web.accessToken,
        '/api/v1/me/identities/wechat/authorize?returnTo=/settings',
      );
      expect(started.status).toBe(200);
      expect(await finish(browser, started.body.url, 'zhangwei')).toBe('/settings');
      const linked = await socket.nth<{ identityId: string; provider: string; linkedAt: string; ip: string }>(
        'identity.linked',
        0,
      );
      expect(linked).toMatchObject({
        provider: 'wechat',
        identityId: expect.any(String),
        linkedAt: expect.any(String),
      });
      expect((await identities(web.accessToken)).map((i) => i.id)).toEqual([linked.identityId]);
      await request(t.url)
        .delete(`/api/v1/me/identities/${linked.identityId}`)
        .set(bearer(phone.accessToken))
        .expect(204);
      expect(await identities(web.accessToken)).toEqual([]);
    } finally {
      socket.close();
    }
  });

  it('checks the credential again at the callback: gone stale (or signed out) meanwhile, nothing is linked', async () => {
    const { login } = await createUser(t);
    for (const spoil of ['stale', 'signed out'] as const) {
      const web = await loginWeb(t, login);
      const browser = new Browser(t.url);
      const started = await startLinkIn(browser, web.accessToken, '/api/v1/me/identities/wechat/authorize');
      expect(started.status).toBe(200);
      if (spoil === 'stale')
        await t.app
          .get(DataSource)
          .query(`UPDATE sessions SET authenticated_at = now() - interval '1 hour' WHERE id = $1`, [web.sessionId]);
      else await request(t.url).post('/api/v1/auth/logout').set(bearer(web.accessToken)).expect(204);
      expect(await finish(browser, started.body.url, 'zhangwei')).toBe('/login?error=auth.reauth_required');
    }
    const again = await loginWeb(t, login);
    expect(await identities(again.accessToken)).toEqual([]);
  });

  it('a password change answers the identities linked since the previous password, to offer removing them', async () => {
    const { login } = await createUser(t);
    const web = await loginWeb(t, login);
    const browser = new Browser(t.url);
    const started = await startLinkIn(browser, web.accessToken, '/api/v1/me/identities/wechat/authorize');
    expect(await finish(browser, started.body.url, 'lihua')).toBe('/');
    const change = (currentPassword: string, newPassword: string) =>
      request(t.url)
        .post('/api/v1/me/password')
        .set(bearer(web.accessToken))
        .send({ currentPassword, newPassword })
        .expect(200);
    const first = await change('correct horse battery staple', 'a second long passphrase');
    expect(first.body.identitiesLinkedSinceLastPassword).toEqual([
      expect.objectContaining({ provider: 'wechat', id: (await identities(web.accessToken))[0]!.id }),
    ]);
    const second = await change('a second long passphrase', 'a third long passphrase');
    expect(second.body.identitiesLinkedSinceLastPassword).toEqual([]);
  });

  it('an account without a password re-proves itself through a provider already linked (another person is refused), then may link', async () => {
    const browser = new Browser(t.url);
    expect(await finish(browser, '/api/v1/oauth/wechat/authorize?returnTo=/home', 'wangfang')).toBe('/home');
    const born = await signedInUser(t.url, publicUrl, browser);
    expect(
      (await request(t.url).post('/api/v1/me/identities/dingtalk/authorize').set(bearer(born.accessToken))).body.code,
    ).toBe('auth.reauth_required');

    const wrong = await startLinkIn(browser, born.accessToken, '/api/v1/auth/reauth/wechat?returnTo=/again');
    expect(wrong.status).toBe(200);
    expect(await finish(browser, wrong.body.url, 'lihua')).toBe('/login?error=auth.forbidden');
    expect(
      (await request(t.url).post('/api/v1/me/identities/dingtalk/authorize').set(bearer(born.accessToken))).status,
    ).toBe(401);

    const right = await startLinkIn(browser, born.accessToken, '/api/v1/auth/reauth/wechat?returnTo=/again');
    expect(await finish(browser, right.body.url, 'wangfang')).toBe('/again');
    const link = await startLinkIn(browser, born.accessToken, '/api/v1/me/identities/dingtalk/authorize');
    expect(link.status).toBe(200);
    expect(await finish(browser, link.body.url, 'lihua')).toBe('/');
    expect((await identities(born.accessToken)).map((i) => i.provider).sort()).toEqual(['dingtalk', 'wechat']);
  });

  it('starting a link in one tab keeps a sign-in in progress in another tab of the same browser working', async () => {
    const { login } = await createUser(t);
    const web = await loginWeb(t, login);
    const browser = new Browser(t.url);
    const signingIn = await startAt(browser, '/api/v1/oauth/dingtalk/authorize?returnTo=/tab-one');
    const linking = await startLinkIn(browser, web.accessToken, '/api/v1/me/identities/wechat/authorize');
    expect(linking.status).toBe(200);
    const back = await decideAs(browser, signingIn, 'zhangwei');
    expect((await browser.get(back)).headers.location).toBe('/tab-one');
  });
});
