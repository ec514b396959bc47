import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { bearer, createUser, loginMobile, loginWeb, TEST_PASSWORD } from '../support/accounts.js';
import { suiteApp } from '../support/create-test-app.js';
import { expectError } from '../support/http.js';
import { KeptSecrets } from '../support/kept-secrets.js';
import { auditRows, db, insertIdentity, sessionRow } from '../support/rows.js';
import { testConfig } from '../support/test-config.js';

const ORIGIN = 'http://localhost:3000'; // testConfig's default PUBLIC_URL origin
const NOBODY = '00000000-0000-4000-8000-000000000000';

/** The signed-in user's own account at /me: profile, password, sessions and linked identities. */
describe('/me: my account, password, sessions and identities', () => {
  const t = suiteApp({ config: testConfig({ RATE_LIMITS: 'off', DEMO_USER: 'off' }) });
  const secrets = new KeptSecrets();
  const keep = secrets.keep;

  const me = (token: string) => request(t.url).get('/api/v1/me').set(bearer(token));
  const login = (body: object) => request(t.url).post('/api/v1/auth/login').send(body);

  describe('POST /me/password', () => {
    const NEW_PASSWORD = 'a brand new passphrase 42';
    const change = (token: string, body: object) =>
      request(t.url).post('/api/v1/me/password').set(bearer(token)).send(body);

    it('a wrong current password is 400 validation.failed with detail path currentPassword, and nothing changes', async () => {
      const { login: name } = await createUser(t);
      const s = keep(await loginMobile(t, name));
      const res = await change(s.accessToken, { currentPassword: 'not my password', newPassword: NEW_PASSWORD });
      expectError(res, 400, 'validation.failed');
      expect(res.body.details.map((d: { path: string }) => d.path)).toEqual(['currentPassword']);
      keep(await loginMobile(t, name)); // old password still works
    });

    it('a weak new password (under 10 characters, or the login itself) is 400 with detail path newPassword', async () => {
      const { login: name } = await createUser(t, { login: `weakpw${Date.now().toString(36)}` });
      const s = keep(await loginMobile(t, name));
      for (const newPassword of ['short', '123456789', name, name.toUpperCase()]) {
        const res = await change(s.accessToken, { currentPassword: TEST_PASSWORD, newPassword });
        expectError(res, 400, 'validation.failed');
        expect(res.body.details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(['newPassword']));
        expect(res.body.details.every((d: { path: string }) => d.path === 'newPassword')).toBe(true);
      }
      keep(await loginMobile(t, name)); // unchanged
    });

    it('refuses unknown fields', async () => {
      const { login: name } = await createUser(t);
      const s = keep(await loginMobile(t, name));
      expectError(
        await change(s.accessToken, { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD, force: true }),
        400,
        'validation.failed',
      );
    });

    it('success: 200, every other session is revoked, this one keeps working, and only the new password signs in', async () => {
      const { login: name } = await createUser(t);
      const current = keep(await loginMobile(t, name));
      const otherPhone = keep(await loginMobile(t, name));
      const otherBrowser = keep(await loginWeb(t, name));
      secrets.add(NEW_PASSWORD);
      const changed = await change(current.accessToken, {
        currentPassword: TEST_PASSWORD,
        newPassword: NEW_PASSWORD,
      }).expect(200);
      expect(changed.body).toEqual({ revokedSessions: 2, identitiesLinkedSinceLastPassword: [] });

      expectError(await me(otherPhone.accessToken), 401, 'auth.unauthenticated');
      expectError(await me(otherBrowser.accessToken), 401, 'auth.unauthenticated');
      expect(
        (await request(t.url).post('/api/v1/auth/refresh').send({ refreshToken: otherPhone.refreshToken })).status,
      ).toBe(401);
      expect(
        (await request(t.url).post('/api/v1/auth/refresh').set('Origin', ORIGIN).set('Cookie', otherBrowser.cookie))
          .status,
      ).toBe(401);

      await me(current.accessToken).expect(200);
      const rotated = await request(t.url)
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: current.refreshToken })
        .expect(200);
      keep(rotated.body);
      await me(rotated.body.accessToken).expect(200);

      expectError(await login({ login: name, password: TEST_PASSWORD }), 401, 'auth.invalid_credentials');
      keep(await loginWeb(t, name, NEW_PASSWORD));
    });
  });

  describe('GET /me, /me/sessions, DELETE /me/sessions/{id}', () => {
    it('GET /me answers the signed-in user (user shape, no password hash)', async () => {
      const { user, login: name } = await createUser(t, { displayName: 'Han Meimei' });
      const s = keep(await loginMobile(t, name));
      const res = await me(s.accessToken).expect(200);
      expect(res.body).toEqual({
        id: user.id,
        login: name,
        displayName: 'Han Meimei',
        avatarUrl: null,
        status: 'active',
        roles: ['user'],
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
    });

    it('GET /me/sessions lists the active sessions, with current: true only on the caller’s own', async () => {
      const { user, login: name } = await createUser(t);
      const phone = keep(
        await loginMobile(t, name, TEST_PASSWORD, { id: 'phone-list-1', name: 'Li’s phone', platform: 'ios' }),
      );
      const browser = keep(await loginWeb(t, name));
      const gone = keep(await loginMobile(t, name));
      await request(t.url).post('/api/v1/auth/logout').set(bearer(gone.accessToken)).expect(204);

      const res = await request(t.url).get('/api/v1/me/sessions').set(bearer(phone.accessToken)).expect(200);
      const ids = res.body.items.map((s: { id: string }) => s.id);
      expect(ids.sort()).toEqual([phone.sessionId, browser.sessionId].sort());
      const mine = res.body.items.find((s: { id: string }) => s.id === phone.sessionId);
      const theirs = res.body.items.find((s: { id: string }) => s.id === browser.sessionId);
      expect(mine).toMatchObject({
        userId: user.id,
        kind: 'mobile',
        createdVia: 'password',
        current: true,
        revokedAt: null,
        device: { id: 'phone-list-1', name: 'Li’s phone', platform: 'ios' },
      });
      expect(theirs).toMatchObject({ kind: 'web', device: null, current: false });

      const fromBrowser = await request(t.url).get('/api/v1/me/sessions').set(bearer(browser.accessToken)).expect(200);
      expect(
        fromBrowser.body.items.filter((s: { current: boolean }) => s.current).map((s: { id: string }) => s.id),
      ).toEqual([browser.sessionId]);
    });

    it('DELETE an own session: 204, its access token is refused on the next request, its refresh too, and it leaves the list', async () => {
      const { login: name } = await createUser(t);
      const keepMe = keep(await loginMobile(t, name));
      const victim = keep(await loginMobile(t, name));
      await me(victim.accessToken).expect(200);
      await request(t.url)
        .delete(`/api/v1/me/sessions/${victim.sessionId}`)
        .set(bearer(keepMe.accessToken))
        .expect(204);
      expectError(await me(victim.accessToken), 401, 'auth.unauthenticated');
      expect(
        (await request(t.url).post('/api/v1/auth/refresh').send({ refreshToken: victim.refreshToken })).status,
      ).toBe(401);
      const list = await request(t.url).get('/api/v1/me/sessions').set(bearer(keepMe.accessToken)).expect(200);
      expect(list.body.items.map((s: { id: string }) => s.id)).toEqual([keepMe.sessionId]);
      // Already revoked: no longer an active session of mine.
      expectError(
        await request(t.url).delete(`/api/v1/me/sessions/${victim.sessionId}`).set(bearer(keepMe.accessToken)),
        404,
        'not_found',
      );
      await me(keepMe.accessToken).expect(200);
    });

    it('DELETE another user’s session is 404 not_found and leaves it working', async () => {
      const { login: a } = await createUser(t);
      const { login: b } = await createUser(t);
      const mine = keep(await loginMobile(t, a));
      const theirs = keep(await loginMobile(t, b));
      expectError(
        await request(t.url).delete(`/api/v1/me/sessions/${theirs.sessionId}`).set(bearer(mine.accessToken)),
        404,
        'not_found',
      );
      await me(theirs.accessToken).expect(200);
      expect((await sessionRow(t, theirs.sessionId))!.revoked_at).toBeNull();
    });

    it('DELETE with a malformed or unknown id is 404 not_found', async () => {
      const { login: name } = await createUser(t);
      const s = keep(await loginMobile(t, name));
      for (const id of ['not-a-uuid', '123', `${NOBODY}x`, NOBODY]) {
        expectError(
          await request(t.url).delete(`/api/v1/me/sessions/${id}`).set(bearer(s.accessToken)),
          404,
          'not_found',
        );
      }
    });
  });

  describe('/me/identities', () => {
    it('GET lists only my identities', async () => {
      const { user, login: name } = await createUser(t);
      const { user: other } = await createUser(t);
      const first = await insertIdentity(t, user.id, 'wechat', `wx-${user.id}`);
      const second = await insertIdentity(t, user.id, 'alipay', `ali-${user.id}`);
      await insertIdentity(t, other.id, 'wechat', `wx-${other.id}`);
      const s = keep(await loginMobile(t, name));
      const res = await request(t.url).get('/api/v1/me/identities').set(bearer(s.accessToken)).expect(200);
      expect(res.body.items.map((i: { id: string }) => i.id).sort()).toEqual([first, second].sort());
      expect(res.body.items.find((i: { id: string }) => i.id === first)).toMatchObject({
        provider: 'wechat',
        subject: `wx-${user.id}`,
        subjectKind: 'unionid',
        linkedAt: expect.any(String),
      });
    });

    it('DELETE with a password left: 204 and the identity is gone', async () => {
      const { user, login: name } = await createUser(t);
      const id = await insertIdentity(t, user.id);
      const s = keep(await loginMobile(t, name));
      await request(t.url).delete(`/api/v1/me/identities/${id}`).set(bearer(s.accessToken)).expect(204);
      expect(await db(t).query('SELECT id FROM identities WHERE id = $1', [id])).toHaveLength(0);
      expectError(
        await request(t.url).delete(`/api/v1/me/identities/${id}`).set(bearer(s.accessToken)),
        404,
        'not_found',
      );
    });

    it('DELETE of the last way to sign in (no password, one identity) is 409 identity.last_method; with two, the first goes', async () => {
      const { user, login: name } = await createUser(t);
      const s = keep(await loginMobile(t, name));
      await db(t).query('UPDATE users SET password_hash = NULL WHERE id = $1', [user.id]);
      const a = await insertIdentity(t, user.id, 'wechat');
      const b = await insertIdentity(t, user.id, 'dingtalk');
      await request(t.url).delete(`/api/v1/me/identities/${a}`).set(bearer(s.accessToken)).expect(204);
      expectError(
        await request(t.url).delete(`/api/v1/me/identities/${b}`).set(bearer(s.accessToken)),
        409,
        'identity.last_method',
      );
      expect(await db(t).query('SELECT id FROM identities WHERE id = $1', [b])).toHaveLength(1);
    });

    it('DELETE another user’s identity, or a malformed id, is 404 not_found', async () => {
      const { login: name } = await createUser(t);
      const { user: other } = await createUser(t);
      const theirs = await insertIdentity(t, other.id);
      const s = keep(await loginMobile(t, name));
      expectError(
        await request(t.url).delete(`/api/v1/me/identities/${theirs}`).set(bearer(s.accessToken)),
        404,
        'not_found',
      );
      expect(await db(t).query('SELECT id FROM identities WHERE id = $1', [theirs])).toHaveLength(1);
      expectError(
        await request(t.url).delete('/api/v1/me/identities/nope').set(bearer(s.accessToken)),
        404,
        'not_found',
      );
    });
  });

  describe('audit events', () => {
    it('revoking one of my sessions (DELETE /me/sessions/{id}) writes a session.revoked event', async () => {
      const { user, login: name } = await createUser(t);
      const a = keep(await loginMobile(t, name));
      const b = keep(await loginMobile(t, name));
      await request(t.url).delete(`/api/v1/me/sessions/${b.sessionId}`).set(bearer(a.accessToken)).expect(204);
      expect(await auditRows(t, `type = 'session.revoked' AND session_id = $1`, [b.sessionId])).toEqual([
        expect.objectContaining({ user_id: user.id, actor_id: user.id }),
      ]);
    });

    it('a password change writes auth.password_changed with the number of sessions it revoked', async () => {
      const { user, login: name } = await createUser(t);
      const a = keep(await loginMobile(t, name));
      keep(await loginMobile(t, name));
      keep(await loginWeb(t, name));
      secrets.add('another new passphrase');
      await request(t.url)
        .post('/api/v1/me/password')
        .set(bearer(a.accessToken))
        .send({ currentPassword: TEST_PASSWORD, newPassword: 'another new passphrase' })
        .expect(200);
      const rows = await auditRows(t, `type = 'auth.password_changed' AND user_id = $1`, [user.id]);
      expect(rows).toEqual([expect.objectContaining({ session_id: a.sessionId, detail: { revokedSessions: 2 } })]);
    });

    // Last: every password and token this suite used.
    it('no audit row holds a password or a token, in any column', async () => {
      await secrets.expectNoneIn(t);
    });
  });
});
