import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import request from 'supertest';
import { encodeCursor } from '../../src/admin/common/admin-list.js';
import { FIXTURE_DIR } from '../fixtures/geoip/fixtures.mjs';
import { expectError } from '../support/http.js';
import { auditRows, auditTexts, db, sessionRow } from '../support/rows.js';
import { NO_LOGIN_LIMITS, testConfig } from '../support/test-config.js';
import { bearer, createUser, loginMobile, loginWeb, TEST_PASSWORD } from '../support/accounts.js';
import { adminCast, signedInAs, expectDocumented } from '../support/admin.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { confirmedQr, exchange, signInPhone } from '../support/qr.js';
import { backends, describeWith } from '../support/services.js';
import { connectSocket, type RecordingSocket } from '../support/sockets.js';

/**
 * Admin sessions API (PROTOCOL.md § Operators): a user's sessions, everyone's
 * recent sessions, revoke one, revoke all, on the embedded defaults and on
 * real Postgres and Redis.
 */

const ORIGIN = 'http://localhost:3000'; // testConfig's default PUBLIC_URL origin
const NOBODY = '00000000-0000-4000-8000-000000000000';
const SESSION_KEYS = [
  'createdAt',
  'createdVia',
  'device',
  'id',
  'ip',
  'kind',
  'lastSeenAt',
  'location',
  'revokedAt',
  'userAgent',
  'userId',
];
/** The routes of this resource in the OpenAPI document: path, method, query fields. */
const ROUTES: Array<[string, string, string[]]> = [
  ['/api/v1/admin/users/{id}/sessions', 'get', ['active', 'limit', 'cursor']],
  ['/api/v1/admin/users/{id}/sessions/{sessionId}', 'delete', []],
  ['/api/v1/admin/users/{id}/sessions', 'delete', []],
  ['/api/v1/admin/sessions', 'get', ['userId', 'kind', 'createdVia', 'active', 'limit', 'cursor']],
];

interface SessionItem {
  id: string;
  userId: string;
  kind: string;
  createdVia: string;
  device: { id: string; name: string; platform: string } | null;
  createdAt: string;
  revokedAt: string | null;
}

describe.each(backends('adm-sess'))('admin sessions API on %s', (_name, need, backend) => {
  describeWith(need, 'GET/DELETE /admin/users/{id}/sessions, GET /admin/sessions', () => {
    let t: TestApp;
    let dispose: () => Promise<void>;
    let cast: Awaited<ReturnType<typeof adminCast>>;
    const sockets: RecordingSocket[] = [];

    beforeAll(async () => {
      const b = await backend();
      dispose = b.dispose;
      // The synthetic GeoIP city database: 203.0.113.0/24 is "Shanghai, CN".
      const geoip = { GEOIP_CITY_DB: join(FIXTURE_DIR, 'GeoLite2-City-Test.mmdb') };
      t = await createTestApp({
        database: b.database,
        config: testConfig({
          LOG_LEVEL: 'warn',
          RATE_LIMITS: 'off',
          DEMO_USER: 'off',
          ...geoip,
          ...NO_LOGIN_LIMITS,
          ...b.env,
        }),
      });
      cast = await adminCast(t);
    });

    afterAll(async () => {
      for (const s of sockets) s.close();
      await t?.close();
      await dispose?.();
    });

    const userSessions = (token: string, userId: string, query = '') =>
      request(t.url).get(`/api/v1/admin/users/${userId}/sessions${query}`).set(bearer(token));
    const allSessions = (token: string, query = '') =>
      request(t.url).get(`/api/v1/admin/sessions${query}`).set(bearer(token));
    const revokeOne = (token: string, userId: string, sessionId: string) =>
      request(t.url).delete(`/api/v1/admin/users/${userId}/sessions/${sessionId}`).set(bearer(token));
    const revokeAll = (token: string, userId: string) =>
      request(t.url).delete(`/api/v1/admin/users/${userId}/sessions`).set(bearer(token));
    const me = (token: string) => request(t.url).get('/api/v1/me').set(bearer(token));
    const refreshMobile = (refreshToken: string) => request(t.url).post('/api/v1/auth/refresh').send({ refreshToken });
    const refreshWeb = (cookie: string) =>
      request(t.url).post('/api/v1/auth/refresh').set('Origin', ORIGIN).set('Cookie', cookie);

    /** Every page of a list from `start` on (the first page when undefined), following `nextCursor`. */
    async function allPages(
      get: (cursor: string | undefined) => request.Test,
      start?: string,
    ): Promise<{ items: SessionItem[]; pages: number }> {
      const items: SessionItem[] = [];
      let cursor = start;
      let pages = 0;
      do {
        const res = await get(cursor).expect(200);
        items.push(...(res.body.items as SessionItem[]));
        cursor = res.body.nextCursor ?? undefined;
        pages++;
      } while (cursor && pages < 100);
      return { items, pages };
    }
    const withCursor = (query: string, cursor: string | undefined) => `${query}${cursor ? `&cursor=${cursor}` : ''}`;

    it('documents every route in the OpenAPI document with an example answer and its query fields', async () => {
      await expectDocumented(t, ROUTES);
    });

    describe('GET /admin/users/{id}/sessions', () => {
      it('lists the user’s live sessions newest first, exactly in the PROTOCOL shape; active=false adds the revoked one', async () => {
        const { user, login } = await createUser(t);
        const signedIn = await request(t.url)
          .post('/api/v1/auth/login')
          .set('User-Agent', 'ScanGate/1.4 (iOS 18.1)')
          .send({
            login,
            password: TEST_PASSWORD,
            device: { id: `dev-${user.id}`, name: 'Li Lei’s phone', platform: 'ios' },
          })
          .expect(200);
        const phone = { sessionId: signedIn.body.sessionId as string, deviceId: `dev-${user.id}` };
        const browser = await loginWeb(t, login);
        const gone = await loginMobile(t, login);
        await request(t.url).post('/api/v1/auth/logout').set(bearer(gone.accessToken)).expect(204);

        const res = await userSessions(cast.admin.accessToken, user.id).expect(200);
        expect(Object.keys(res.body).sort()).toEqual(['items', 'nextCursor']);
        expect(res.body.nextCursor).toBeNull();
        expect(res.body.items.map((s: SessionItem) => s.id)).toEqual([browser.sessionId, phone.sessionId]);
        for (const item of res.body.items) expect(Object.keys(item).sort()).toEqual(SESSION_KEYS);
        const [web, mobile] = res.body.items;
        expect(mobile).toEqual({
          id: phone.sessionId,
          userId: user.id,
          kind: 'mobile',
          createdVia: 'password',
          device: { id: phone.deviceId, name: 'Li Lei’s phone', platform: 'ios' },
          ip: expect.any(String),
          userAgent: 'ScanGate/1.4 (iOS 18.1)',
          location: null, // no GeoIP database in tests, and a loopback address has no location anyway
          createdAt: expect.any(String),
          lastSeenAt: expect.any(String),
          revokedAt: null,
        });
        expect(web).toMatchObject({
          id: browser.sessionId,
          kind: 'web',
          createdVia: 'password',
          device: null,
          revokedAt: null,
        });
        expect(Date.parse(web.createdAt)).toBeGreaterThanOrEqual(Date.parse(mobile.createdAt));

        const all = await userSessions(cast.admin.accessToken, user.id, '?active=false').expect(200);
        expect(all.body.items.map((s: SessionItem) => s.id)).toEqual([
          gone.sessionId,
          browser.sessionId,
          phone.sessionId,
        ]);
        expect(all.body.items[0].revokedAt).toEqual(expect.any(String));
        const explicit = await userSessions(cast.admin.accessToken, user.id, '?active=true').expect(200);
        expect(explicit.body.items.map((s: SessionItem) => s.id)).toEqual([browser.sessionId, phone.sessionId]);
      });

      it('shows the location of the session’s IP from the GeoIP database (null for a loopback or unknown address)', async () => {
        const { user, login } = await createUser(t);
        const far = await loginMobile(t, login);
        const near = await loginWeb(t, login);
        await db(t).query(`UPDATE sessions SET ip = '203.0.113.24' WHERE id = $1`, [far.sessionId]);
        const items = (await userSessions(cast.admin.accessToken, user.id).expect(200)).body.items as Array<
          SessionItem & { ip: string; location: string | null }
        >;
        expect(items.map((s) => [s.id, s.ip, s.location])).toEqual([
          [near.sessionId, expect.stringMatching(/127\.0\.0\.1/), null],
          [far.sessionId, '203.0.113.24', 'Shanghai, CN'],
        ]);
      });

      it('pages with limit and cursor, without duplicates or gaps, even when a session starts between two pages', async () => {
        const { user, login } = await createUser(t);
        const made: string[] = [];
        for (let i = 0; i < 5; i++) made.unshift((await loginMobile(t, login)).sessionId);
        const first = await userSessions(cast.admin.accessToken, user.id, '?limit=2').expect(200);
        expect(first.body.items.map((s: SessionItem) => s.id)).toEqual(made.slice(0, 2));
        expect(first.body.nextCursor).toEqual(expect.any(String));
        const late = await loginWeb(t, login); // newer than the cursor: not on the following pages
        const rest = await allPages(
          (cursor) => userSessions(cast.admin.accessToken, user.id, withCursor('?limit=2', cursor)),
          first.body.nextCursor,
        );
        expect(rest.items.map((s) => s.id)).toEqual(made.slice(2));
        expect(rest.pages).toBe(2);
        const again = await allPages((cursor) =>
          userSessions(cast.admin.accessToken, user.id, withCursor('?limit=2', cursor)),
        );
        expect(again.items.map((s) => s.id)).toEqual([late.sessionId, ...made]);
      });

      it('an unknown, malformed or deleted user is 404 not_found', async () => {
        expectError(await userSessions(cast.admin.accessToken, NOBODY), 404, 'not_found');
        expectError(await userSessions(cast.admin.accessToken, 'malformed'), 404, 'not_found');
        const { user } = await createUser(t);
        await db(t).query('UPDATE users SET deleted_at = now() WHERE id = $1', [user.id]);
        expectError(await userSessions(cast.admin.accessToken, user.id), 404, 'not_found');
      });
    });

    describe('DELETE /admin/users/{id}/sessions/{sessionId}', () => {
      it('revokes that session: its access token is refused on the next request, its refresh token too, its /me socket is told; the others live on', async () => {
        const { user, login } = await createUser(t);
        const phone = await signInPhone(t, login);
        const other = await loginMobile(t, login);
        const browser = await loginWeb(t, login);
        const socket = await connectSocket(t.url, '/me', { token: phone.accessToken });
        sockets.push(socket);
        await me(phone.accessToken).expect(200);

        const res = await revokeOne(cast.admin.accessToken, user.id, phone.sessionId).expect(204);
        expect(res.text).toBe('');

        expectError(await me(phone.accessToken), 401, 'auth.unauthenticated');
        expect((await refreshMobile(phone.refreshToken)).status).toBe(401);
        expect(await socket.nth('session.revoked', 0)).toEqual({ sessionId: phone.sessionId });
        expect(await socket.disconnected).toBe('io server disconnect');
        await me(other.accessToken).expect(200);
        await me(browser.accessToken).expect(200);
        expect(await sessionRow(t, phone.sessionId)).toMatchObject({
          revoke_reason: 'revoked_by_admin',
          revoked_at: expect.any(Date),
        });
        const listed = await userSessions(cast.admin.accessToken, user.id).expect(200);
        expect(listed.body.items.map((s: SessionItem) => s.id).sort()).toEqual(
          [other.sessionId, browser.sessionId].sort(),
        );
      });

      it('a web session’s refresh cookie is refused after the revocation too', async () => {
        const { user, login } = await createUser(t);
        const browser = await loginWeb(t, login);
        await revokeOne(cast.admin.accessToken, user.id, browser.sessionId).expect(204);
        expectError(await me(browser.accessToken), 401, 'auth.unauthenticated');
        expect((await refreshWeb(browser.cookie)).status).toBe(401);
      });

      it('is audited as session.revoked with the acting admin, the target, the request id and the before/after; revoking it again is 204 and writes nothing', async () => {
        const { user, login } = await createUser(t);
        const phone = await loginMobile(t, login);
        const res = await revokeOne(cast.admin.accessToken, user.id, phone.sessionId)
          .set('X-Request-Id', 'req-admin-revoke-1')
          .expect(204);
        expect(res.headers['x-request-id']).toBe('req-admin-revoke-1');

        const rows = await auditRows(t, `type = 'session.revoked' AND session_id = $1`, [phone.sessionId]);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({
          actor_id: cast.admin.user.id,
          user_id: user.id,
          session_id: phone.sessionId,
          ip: expect.any(String),
          detail: {
            requestId: 'req-admin-revoke-1',
            via: 'admin',
            reason: 'revoked_by_admin',
            session: { kind: 'mobile', createdVia: 'password', deviceId: phone.deviceId },
            changes: {
              revokedAt: { before: null, after: expect.any(String) },
              revokeReason: { before: null, after: 'revoked_by_admin' },
            },
          },
        });

        await revokeOne(cast.admin.accessToken, user.id, phone.sessionId).expect(204);
        expect(await auditRows(t, `type = 'session.revoked' AND session_id = $1`, [phone.sessionId])).toHaveLength(1);
      });

      it('another user’s session, an unknown or malformed session id, an unknown user: 404 not_found, and nothing is revoked', async () => {
        const a = await createUser(t);
        const b = await createUser(t);
        const bPhone = await loginMobile(t, b.login);
        expectError(await revokeOne(cast.admin.accessToken, a.user.id, bPhone.sessionId), 404, 'not_found');
        expectError(await revokeOne(cast.admin.accessToken, a.user.id, NOBODY), 404, 'not_found');
        expectError(await revokeOne(cast.admin.accessToken, a.user.id, 'malformed'), 404, 'not_found');
        expectError(await revokeOne(cast.admin.accessToken, NOBODY, bPhone.sessionId), 404, 'not_found');
        expectError(await revokeOne(cast.admin.accessToken, 'malformed', bPhone.sessionId), 404, 'not_found');
        await me(bPhone.accessToken).expect(200);
        expect(await sessionRow(t, bPhone.sessionId)).toMatchObject({ revoked_at: null });
      });
    });

    describe('DELETE /admin/users/{id}/sessions', () => {
      it('revokes every session of the user: all access and refresh tokens refused on the next request; audited once with the revoked ids', async () => {
        const { user, login } = await createUser(t);
        const phone = await loginMobile(t, login);
        const browser = await loginWeb(t, login);
        const bystander = await signedInAs(t, ['user']);

        const res = await revokeAll(cast.admin.accessToken, user.id)
          .set('X-Request-Id', 'req-admin-revoke-all')
          .expect(204);
        expect(res.text).toBe('');
        expectError(await me(phone.accessToken), 401, 'auth.unauthenticated');
        expectError(await me(browser.accessToken), 401, 'auth.unauthenticated');
        expect((await refreshMobile(phone.refreshToken)).status).toBe(401);
        expect((await refreshWeb(browser.cookie)).status).toBe(401);
        await me(bystander.accessToken).expect(200);
        expect((await userSessions(cast.admin.accessToken, user.id).expect(200)).body.items).toEqual([]);

        const rows = await auditRows(t, `type = 'session.revoked' AND user_id = $1`, [user.id]);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({
          actor_id: cast.admin.user.id,
          session_id: null,
          detail: {
            requestId: 'req-admin-revoke-all',
            via: 'admin',
            all: true,
            reason: 'revoked_by_admin',
            changes: { activeSessions: { before: 2, after: 0 } },
          },
        });
        expect([...(rows[0]!.detail.sessionIds as string[])].sort()).toEqual(
          [phone.sessionId, browser.sessionId].sort(),
        );
      });

      it('needs a recent sign-in: an admin whose session proved its password too long ago gets 401 auth.reauth_required and nothing is revoked, until POST /auth/reauth', async () => {
        const { user, login } = await createUser(t);
        const phone = await loginMobile(t, login);
        const stale = await signedInAs(t, ['admin']);
        // The admin's session proved its password an hour ago (REAUTH_MAX_AGE_SECONDS defaults to 300).
        await db(t).query(`UPDATE sessions SET authenticated_at = now() - interval '1 hour' WHERE id = $1`, [
          stale.sessionId,
        ]);

        expectError(await revokeAll(stale.accessToken, user.id), 401, 'auth.reauth_required');
        await me(phone.accessToken).expect(200);
        expect(await auditRows(t, `type = 'session.revoked' AND user_id = $1`, [user.id])).toHaveLength(0);
        // Revoking one session is not destructive enough to need it.
        const other = await loginMobile(t, login);
        await revokeOne(stale.accessToken, user.id, other.sessionId).expect(204);

        await request(t.url)
          .post('/api/v1/auth/reauth')
          .set(bearer(stale.accessToken))
          .send({ password: TEST_PASSWORD })
          .expect(200);
        await revokeAll(stale.accessToken, user.id).expect(204);
        expectError(await me(phone.accessToken), 401, 'auth.unauthenticated');
      });

      it('an unknown or malformed user is 404 not_found', async () => {
        expectError(await revokeAll(cast.admin.accessToken, NOBODY), 404, 'not_found');
        expectError(await revokeAll(cast.admin.accessToken, 'malformed'), 404, 'not_found');
      });
    });

    describe('GET /admin/sessions', () => {
      it('lists everyone’s recent sessions newest first, filtered by userId, kind, createdVia and active, paged by cursor', async () => {
        const { user, login } = await createUser(t);
        const phone = await signInPhone(t, login);
        const browser = await loginWeb(t, login);
        const gone = await loginMobile(t, login);
        await request(t.url).post('/api/v1/auth/logout').set(bearer(gone.accessToken)).expect(204);
        const qr = await confirmedQr(t, phone);
        await exchange(t, qr.id, qr.pollToken).expect(200);
        const someoneElse = await signedInAs(t, ['user']);

        const newest = await allSessions(cast.admin.accessToken, '?limit=1').expect(200);
        expect(newest.body.items).toHaveLength(1);
        expect(newest.body.items[0]).toMatchObject({ id: someoneElse.sessionId, userId: someoneElse.user.id });
        expect(Object.keys(newest.body.items[0]).sort()).toEqual(SESSION_KEYS);

        const mine = (await allSessions(cast.admin.accessToken, `?userId=${user.id}`).expect(200)).body
          .items as SessionItem[];
        expect(mine.map((s) => [s.kind, s.createdVia])).toEqual([
          ['web', 'qr'],
          ['web', 'password'],
          ['mobile', 'password'],
        ]);
        expect(mine.every((s) => s.userId === user.id && s.revokedAt === null)).toBe(true);
        const viaQr = (await allSessions(cast.admin.accessToken, `?userId=${user.id}&createdVia=qr`).expect(200)).body
          .items as SessionItem[];
        expect(viaQr.map((s) => s.createdVia)).toEqual(['qr']);
        const mobiles = (
          await allSessions(cast.admin.accessToken, `?userId=${user.id}&kind=mobile&active=false`).expect(200)
        ).body.items as SessionItem[];
        expect(mobiles.map((s) => s.id)).toEqual([gone.sessionId, phone.sessionId]);
        expect(mobiles[0]!.revokedAt).toEqual(expect.any(String));
        expect(mine.map((s) => s.id)).toContain(browser.sessionId);

        // Every live session, page by page: newest first, each once.
        const paged = await allPages((cursor) => allSessions(cast.auditor.accessToken, withCursor('?limit=3', cursor)));
        const rows = (await db(t).query(
          `SELECT id FROM sessions WHERE revoked_at IS NULL AND refresh_expires_at > now() AND absolute_expires_at > now() ORDER BY created_at DESC, id DESC`,
        )) as Array<{ id: string }>;
        expect(paged.items.map((s) => s.id)).toEqual(rows.map((r) => r.id));
        expect(new Set(paged.items.map((s) => s.id)).size).toBe(paged.items.length);
        expect(paged.pages).toBe(Math.ceil(rows.length / 3));
        const filteredPages = await allPages((cursor) =>
          allSessions(cast.admin.accessToken, withCursor('?kind=web&createdVia=password&limit=2', cursor)),
        );
        expect(filteredPages.items.length).toBeGreaterThan(0);
        expect(
          filteredPages.items.every((s) => s.kind === 'web' && s.createdVia === 'password' && s.revokedAt === null),
        ).toBe(true);
      });

      it('sessions with the very same creation instant are neither repeated nor skipped across pages', async () => {
        const { user, login } = await createUser(t);
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push((await loginMobile(t, login)).sessionId);
        await db(t).query(`UPDATE sessions SET created_at = '2030-01-01T00:00:00.123456Z' WHERE user_id = $1`, [
          user.id,
        ]);
        const paged = await allPages((cursor) =>
          allSessions(cast.admin.accessToken, withCursor(`?userId=${user.id}&limit=2`, cursor)),
        );
        expect(paged.items.map((s) => s.id)).toEqual([...ids].sort().reverse());
      });
    });

    describe('query validation', () => {
      it('malformed filters and unknown fields are 400 validation.failed naming the field', async () => {
        const cases: Array<[string, string]> = [
          ['?active=maybe', 'active'],
          ['?kind=tablet', 'kind'],
          ['?createdVia=sms', 'createdVia'],
          ['?userId=not-a-uuid', 'userId'],
          ['?limit=0', 'limit'],
          ['?limit=201', 'limit'],
          ['?limit=ten', 'limit'],
          ['?cursor=***', 'cursor'],
          ['?sort=createdAt', ''],
          ['?foo=bar', ''],
        ];
        for (const [query, path] of cases) {
          const res = await allSessions(cast.admin.accessToken, query);
          expectError(res, 400, 'validation.failed');
          if (path) expect(res.body.details.map((d: { path: string }) => d.path)).toContain(path);
        }
        const { user } = await createUser(t);
        expectError(await userSessions(cast.admin.accessToken, user.id, '?kind=web'), 400, 'validation.failed');
        expectError(await userSessions(cast.admin.accessToken, user.id, '?active=no'), 400, 'validation.failed');
      });

      it('a cursor that is not one of this list’s, or was tampered with, is 400 on cursor (never a 500)', async () => {
        const forged = [
          encodeCursor('-createdAt', ['2026-01-01 00:00:00+00', NOBODY]), // another list's sort
          encodeCursor('sessions:-createdAt', ['2026-02-30 00:00:00+00', NOBODY]),
          encodeCursor('sessions:-createdAt', ['yesterday', NOBODY]),
          encodeCursor('sessions:-createdAt', ['2026-01-01 00:00:00+00', 'not-a-uuid']),
          encodeCursor('sessions:-createdAt', ['2026-01-01 00:00:00+00']),
          Buffer.from('not json').toString('base64url'),
        ];
        for (const cursor of forged) {
          const res = await allSessions(cast.admin.accessToken, `?cursor=${cursor}`);
          expectError(res, 400, 'validation.failed');
          expect(res.body.details.map((d: { path: string }) => d.path)).toEqual(['cursor']);
        }
        const valid = encodeCursor('sessions:-createdAt', ['2026-01-01 10:00:00.5+05:30', NOBODY]);
        await allSessions(cast.admin.accessToken, `?cursor=${valid}`).expect(200);
      });
    });

    describe('roles', () => {
      it('an auditor may list, but revoking one or all is 403 auth.forbidden and changes nothing', async () => {
        const { user, login } = await createUser(t);
        const phone = await loginMobile(t, login);
        await userSessions(cast.auditor.accessToken, user.id).expect(200);
        await allSessions(cast.auditor.accessToken).expect(200);
        expectError(await revokeOne(cast.auditor.accessToken, user.id, phone.sessionId), 403, 'auth.forbidden');
        expectError(await revokeAll(cast.auditor.accessToken, user.id), 403, 'auth.forbidden');
        await me(phone.accessToken).expect(200);
      });

      it('a user-role caller is 403 auth.forbidden on every route (whether or not the ids exist), anonymous 401 auth.unauthenticated', async () => {
        const { user, login } = await createUser(t);
        const phone = await loginMobile(t, login);
        const plain = cast.user.accessToken;
        expectError(await userSessions(plain, user.id), 403, 'auth.forbidden');
        expectError(await userSessions(plain, 'malformed'), 403, 'auth.forbidden');
        expectError(await allSessions(plain), 403, 'auth.forbidden');
        expectError(await revokeOne(plain, user.id, phone.sessionId), 403, 'auth.forbidden');
        expectError(await revokeAll(plain, user.id), 403, 'auth.forbidden');
        expectError(await request(t.url).get(`/api/v1/admin/users/${user.id}/sessions`), 401, 'auth.unauthenticated');
        expectError(await request(t.url).get('/api/v1/admin/sessions'), 401, 'auth.unauthenticated');
        expectError(
          await request(t.url).delete(`/api/v1/admin/users/${user.id}/sessions/${phone.sessionId}`),
          401,
          'auth.unauthenticated',
        );
        expectError(
          await request(t.url).delete(`/api/v1/admin/users/${user.id}/sessions`),
          401,
          'auth.unauthenticated',
        );
        await me(phone.accessToken).expect(200);
      });
    });

    it('no answer and no audit event holds a token or a password', async () => {
      const { user, login } = await createUser(t);
      const phone = await loginMobile(t, login);
      const browser = await loginWeb(t, login);
      const secrets = [
        phone.accessToken,
        phone.refreshToken,
        browser.accessToken,
        browser.cookie.split('=')[1]!,
        cast.admin.accessToken,
        TEST_PASSWORD,
      ];
      const answers = [
        (await userSessions(cast.admin.accessToken, user.id, '?active=false').expect(200)).text,
        (await allSessions(cast.admin.accessToken, `?userId=${user.id}`).expect(200)).text,
      ];
      await revokeOne(cast.admin.accessToken, user.id, phone.sessionId).expect(204);
      await revokeAll(cast.admin.accessToken, user.id).expect(204);
      const texts = [...answers, ...(await auditTexts(t))];
      for (const secret of secrets) expect(texts.filter((text) => text.includes(secret))).toEqual([]);
      expect(texts.join('\n')).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.|argon2/);
    });
  });
});
