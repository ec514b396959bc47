import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { bearer, createUser, loginMobile, loginWeb } from '../support/accounts.js';
import { adminCast, signedInAs } from '../support/admin.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { backends, describeWith } from '../support/services.js';
import { testConfig } from '../support/test-config.js';

/**
 * The admin users resource beyond the basics: search, filters, sorts and
 * cursor pages (stable under inserts), ETag/If-Match, destructive changes
 * behind a recent sign-in, soft and hard deletes.
 */
describe.each(backends('sgtest-adminusers-'))('admin users: list, ETag, delete (%s)', (name, need, backend) => {
  describeWith(need, `admin users on ${name}`, () => {
    let t: TestApp;
    let dispose: () => Promise<void>;
    let cast: Awaited<ReturnType<typeof adminCast>>;
    const run = `r${Date.now().toString(36)}`;

    beforeAll(async () => {
      const made = await backend();
      dispose = made.dispose;
      t = await createTestApp({
        database: made.database,
        config: testConfig({ LOG_LEVEL: 'warn', RATE_LIMITS: 'off', ...made.env }),
      });
      cast = await adminCast(t);
    }, 60_000);

    afterAll(async () => {
      await t?.close();
      await dispose?.();
    });

    const admin = () => cast.admin.auth;
    const list = (query: string) => request(t.url).get(`/api/v1/admin/users?${query}`).set(admin());

    /** Every page of `query`, following nextCursor; `between` runs between pages. */
    async function allPages(query: string, between?: () => Promise<void>) {
      const ids: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 200; page++) {
        const res: request.Response = await list(`${query}${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
        ids.push(...res.body.items.map((u: { id: string }) => u.id));
        cursor = res.body.nextCursor;
        if (!cursor) return ids;
        await between?.();
      }
      throw new Error('too many pages');
    }

    describe('search, filters and sort', () => {
      it('finds users by a case-insensitive part of the login, the display name or an identity subject', async () => {
        const a = await createUser(t, { login: `${run}alpha`, displayName: 'Zhang Wei' });
        const b = await createUser(t, { login: `${run}beta`, displayName: 'Ada LOVELACE' });
        const c = await createUser(t, { login: `${run}gamma`, displayName: 'Someone' });
        await t.app
          .get(DataSource)
          .query(
            `INSERT INTO identities (user_id, provider, subject, subject_kind) VALUES ($1, 'wechat', $2, 'unionid')`,
            [c.user.id, `o6_${run}UNIONX`],
          );
        const ids = async (q: string) =>
          (await list(`q=${encodeURIComponent(q)}`).expect(200)).body.items.map((u: { id: string }) => u.id);
        expect(await ids(`${run}ALPHA`)).toEqual([a.user.id]);
        expect(await ids('lovelace')).toEqual([b.user.id]);
        expect(await ids(`${run}unionx`)).toEqual([c.user.id]);
        expect(await ids(`${run}`)).toEqual(expect.arrayContaining([a.user.id, b.user.id, c.user.id]));
        // LIKE's own characters are plain text here.
        expect(await ids('%')).toEqual([]);
      });

      it('filters by status, role, provider and creation time, and sorts by login', async () => {
        const auditorOnly = await createUser(t, { login: `${run}filter-aud`, roles: ['auditor'] });
        const disabled = await createUser(t, { login: `${run}filter-off` });
        await request(t.url)
          .patch(`/api/v1/admin/users/${disabled.user.id}`)
          .set(admin())
          .send({ status: 'disabled' })
          .expect(200);
        const linked = await createUser(t, { login: `${run}filter-ding` });
        await t.app
          .get(DataSource)
          .query(
            `INSERT INTO identities (user_id, provider, subject, subject_kind) VALUES ($1, 'dingtalk', $2, 'unionId')`,
            [linked.user.id, `ding-${run}`],
          );
        const q = `q=${run}filter`;
        const idsOf = (res: request.Response) => res.body.items.map((u: { id: string }) => u.id);
        expect(idsOf(await list(`${q}&role=auditor`).expect(200))).toEqual([auditorOnly.user.id]);
        expect(idsOf(await list(`${q}&status=disabled`).expect(200))).toEqual([disabled.user.id]);
        expect(idsOf(await list(`${q}&provider=dingtalk`).expect(200))).toEqual([linked.user.id]);
        expect(
          idsOf(await list(`${q}&createdFrom=2000-01-01T00:00:00Z&createdTo=2000-02-01T00:00:00Z`).expect(200)),
        ).toEqual([]);
        const byLogin = (await list(`${q}&sort=login`).expect(200)).body.items.map((u: { login: string }) => u.login);
        expect(byLogin).toEqual([`${run}filter-aud`, `${run}filter-ding`, `${run}filter-off`]);
        const byLoginDesc = (await list(`${q}&sort=-login`).expect(200)).body.items.map(
          (u: { login: string }) => u.login,
        );
        expect(byLoginDesc).toEqual([...byLogin].reverse());
        // Newest first by default.
        const newest = (await list(q).expect(200)).body.items.map((u: { login: string }) => u.login);
        expect(newest).toEqual([`${run}filter-ding`, `${run}filter-off`, `${run}filter-aud`]);
      });

      it('refuses malformed filters, unknown fields and foreign cursors with the 400 envelope', async () => {
        for (const query of [
          'limit=0',
          'limit=201',
          'limit=ten',
          'status=gone',
          'role=root',
          'sort=name',
          'createdFrom=yesterday',
          'createdFrom=2026-02-01T00:00:00Z&createdTo=2026-01-01T00:00:00Z',
          'provider=Not%20A%20Provider',
          'cursor=not*a*cursor',
          `cursor=${Buffer.from('["-createdAt"]').toString('base64url')}`,
          // Hand-made cursors: an impossible date, a login sort key with a bad id (never a 500 from a SQL cast).
          `cursor=${Buffer.from('["-createdAt","2026-02-30 00:00:00+00","0b6f2a1e-6c1d-4a57-9a53-0f1d6c1b2e3f"]').toString('base64url')}`,
          `sort=login&cursor=${Buffer.from('["login","abc","not-a-uuid"]').toString('base64url')}`,
          'unknown=1',
          'q=%00x',
        ]) {
          const res = await list(query).expect(400);
          expect(res.body).toMatchObject({
            code: 'validation.failed',
            message: expect.any(String),
            requestId: expect.any(String),
          });
          expect(res.body.details.length).toBeGreaterThan(0);
        }
        // A cursor made for another sort.
        const first = await list('limit=1&sort=login').expect(200);
        const res = await list(`limit=1&sort=-createdAt&cursor=${first.body.nextCursor}`).expect(400);
        expect(res.body.details[0]).toMatchObject({ path: 'cursor' });
      });
    });

    describe('cursor pagination', () => {
      it('pages through 1,000 users with concurrent inserts: every user once, no duplicates, no gaps', async () => {
        const prefix = `${run}page`;
        await t.app
          .get(DataSource)
          .query(
            `INSERT INTO users (login, display_name, created_at) SELECT $1 || lpad(g::text, 4, '0'), 'Paged ' || g, now() - (g || ' seconds')::interval FROM generate_series(1, 1000) g`,
            [prefix],
          );
        const originals = new Set<string>(
          (await t.app.get(DataSource).query(`SELECT id FROM users WHERE login LIKE $1`, [`${prefix}%`])).map(
            (r: { id: string }) => r.id,
          ),
        );
        expect(originals.size).toBe(1000);
        for (const sort of ['-createdAt', 'createdAt', 'login', '-login']) {
          let inserted = 0;
          const seen = await allPages(`q=${prefix}&limit=37&sort=${sort}`, async () => {
            // Someone creates users while the admin pages (some sort before, some after the cursor).
            inserted++;
            // Without passwords: what is paged is the rows, and an argon2id hash per insert only costs time.
            await Promise.all([
              createUser(t, { login: `${prefix}${sort.replace('-', 'd')}a${inserted}`, password: null }),
              createUser(t, { login: `${prefix}0000x${sort.replace('-', 'd')}${inserted}`, password: null }),
            ]);
          });
          expect(new Set(seen).size).toBe(seen.length);
          expect(seen.filter((id) => originals.has(id))).toHaveLength(1000);
        }
      }, 120_000);
    });

    describe('ETag and If-Match', () => {
      it('GET and PATCH give strong ETags; a stale If-Match is 412 precondition_failed and changes nothing', async () => {
        const { user } = await createUser(t, { displayName: 'Before' });
        const read = await request(t.url).get(`/api/v1/admin/users/${user.id}`).set(admin()).expect(200);
        const etag = read.headers.etag as string;
        expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
        // Two admins read the same version; the first write wins, the second is refused.
        const first = await request(t.url)
          .patch(`/api/v1/admin/users/${user.id}`)
          .set(admin())
          .set('If-Match', etag)
          .send({ displayName: 'First' })
          .expect(200);
        expect(first.headers.etag).not.toBe(etag);
        const second = await request(t.url)
          .patch(`/api/v1/admin/users/${user.id}`)
          .set(admin())
          .set('If-Match', etag)
          .send({ displayName: 'Second' })
          .expect(412);
        expect(second.body).toMatchObject({ code: 'precondition_failed' });
        const now = await request(t.url).get(`/api/v1/admin/users/${user.id}`).set(admin()).expect(200);
        expect(now.body.displayName).toBe('First');
        expect(now.headers.etag).toBe(first.headers.etag);
        // The fresh ETag works; `*` and no header are last-write-wins; garbage is stale.
        await request(t.url)
          .patch(`/api/v1/admin/users/${user.id}`)
          .set(admin())
          .set('If-Match', first.headers.etag)
          .send({ displayName: 'Third' })
          .expect(200);
        await request(t.url)
          .patch(`/api/v1/admin/users/${user.id}`)
          .set(admin())
          .set('If-Match', '*')
          .send({ displayName: 'Fourth' })
          .expect(200);
        await request(t.url)
          .patch(`/api/v1/admin/users/${user.id}`)
          .set(admin())
          .set('If-Match', 'W/"weak"')
          .send({ displayName: 'Fifth' })
          .expect(412);
        // A well-formed tag that is not one of ours (another resource, another server): 412, never a 500.
        await request(t.url)
          .patch(`/api/v1/admin/users/${user.id}`)
          .set(admin())
          .set('If-Match', '"abc"')
          .send({ displayName: 'Sixth' })
          .expect(412);
      });

      it('of parallel patches with the same ETag exactly one succeeds', async () => {
        const { user } = await createUser(t);
        const etag = (await request(t.url).get(`/api/v1/admin/users/${user.id}`).set(admin()).expect(200)).headers
          .etag as string;
        const answers = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            request(t.url)
              .patch(`/api/v1/admin/users/${user.id}`)
              .set(admin())
              .set('If-Match', etag)
              .send({ displayName: `Racer ${i}` }),
          ),
        );
        expect(answers.map((a) => a.status).sort()).toEqual([200, 412, 412, 412, 412, 412]);
      });
    });

    describe('changes', () => {
      it("sets display name, avatar and roles; other roles revoke the user's sessions (tokens carry roles)", async () => {
        const { user, login } = await createUser(t);
        const phone = await loginMobile(t, login);
        const res = await request(t.url)
          .patch(`/api/v1/admin/users/${user.id}`)
          .set(admin())
          .send({ displayName: 'Renamed', avatarUrl: 'https://img.example.com/a.png', roles: ['user', 'auditor'] })
          .expect(200);
        expect(res.body).toMatchObject({
          displayName: 'Renamed',
          avatarUrl: 'https://img.example.com/a.png',
          roles: ['user', 'auditor'],
        });
        await request(t.url).get('/api/v1/me').set(bearer(phone.accessToken)).expect(401);
        for (const body of [
          { avatarUrl: 'javascript:alert(1)' },
          { roles: [] },
          { roles: ['root'] },
          { displayName: '' },
          { displayName: 'bell\u0007' },
          {},
          { id: 'x' },
        ]) {
          await request(t.url).patch(`/api/v1/admin/users/${user.id}`).set(admin()).send(body).expect(400);
        }
      });

      it('an admin cannot disable, delete or demote themselves', async () => {
        const me = cast.admin.user.id;
        expect(
          (
            await request(t.url)
              .patch(`/api/v1/admin/users/${me}`)
              .set(admin())
              .send({ status: 'disabled' })
              .expect(403)
          ).body.code,
        ).toBe('auth.forbidden');
        await request(t.url)
          .patch(`/api/v1/admin/users/${me}`)
          .set(admin())
          .send({ roles: ['user'] })
          .expect(403);
        await request(t.url).delete(`/api/v1/admin/users/${me}`).set(admin()).expect(403);
        await request(t.url)
          .patch(`/api/v1/admin/users/${me}`)
          .set(admin())
          .send({ displayName: 'Still Admin' })
          .expect(200);
      });

      it('destructive changes need a recent sign-in: auth.reauth_required, then POST /auth/reauth unlocks them', async () => {
        const stale = await signedInAs(t, ['admin']);
        await t.app
          .get(DataSource)
          .query(`UPDATE sessions SET authenticated_at = now() - interval '2 hours' WHERE id = $1`, [stale.sessionId]);
        const { user } = await createUser(t);
        for (const body of [{ status: 'disabled' }, { roles: ['admin'] }, { password: 'another long passphrase' }]) {
          const res = await request(t.url)
            .patch(`/api/v1/admin/users/${user.id}`)
            .set(stale.auth)
            .send(body)
            .expect(401);
          expect(res.body.code).toBe('auth.reauth_required');
        }
        expect(
          (await request(t.url).delete(`/api/v1/admin/users/${user.id}`).set(stale.auth).expect(401)).body.code,
        ).toBe('auth.reauth_required');
        // Creating an admin is a role change too; a plain user is not.
        const made = { login: `${run}stale-made`, displayName: 'Made' };
        expect(
          (
            await request(t.url)
              .post('/api/v1/admin/users')
              .set(stale.auth)
              .send({ ...made, roles: ['admin'] })
              .expect(401)
          ).body.code,
        ).toBe('auth.reauth_required');
        await request(t.url).post('/api/v1/admin/users').set(stale.auth).send(made).expect(201);
        // Harmless changes do not.
        await request(t.url)
          .patch(`/api/v1/admin/users/${user.id}`)
          .set(stale.auth)
          .send({ displayName: 'Fine' })
          .expect(200);
        await request(t.url)
          .post('/api/v1/auth/reauth')
          .set(stale.auth)
          .send({ password: 'correct horse battery staple' })
          .expect(200);
        await request(t.url)
          .patch(`/api/v1/admin/users/${user.id}`)
          .set(stale.auth)
          .send({ status: 'disabled' })
          .expect(200);
      });
    });

    describe('delete', () => {
      it('soft: sessions refused at once, identities removed, gone from lists and GET, cannot sign in, login stays taken', async () => {
        const { user, login } = await createUser(t);
        const web = await loginWeb(t, login);
        await t.app
          .get(DataSource)
          .query(
            `INSERT INTO identities (user_id, provider, subject, subject_kind) VALUES ($1, 'alipay', $2, 'open_id')`,
            [user.id, `ali-${run}-${user.id}`],
          );
        await request(t.url).delete(`/api/v1/admin/users/${user.id}`).set(admin()).expect(204);
        await request(t.url).get('/api/v1/me').set(bearer(web.accessToken)).expect(401);
        await request(t.url).get(`/api/v1/admin/users/${user.id}`).set(admin()).expect(404);
        expect((await list(`q=${login}`).expect(200)).body.items).toEqual([]);
        expect(
          (
            await request(t.url)
              .post('/api/v1/auth/login')
              .send({ login, password: 'correct horse battery staple' })
              .expect(401)
          ).body.code,
        ).toBe('auth.invalid_credentials');
        expect(await t.app.get(DataSource).query('SELECT 1 FROM identities WHERE user_id = $1', [user.id])).toEqual([]);
        expect(
          (
            await request(t.url)
              .post('/api/v1/admin/users')
              .set(admin())
              .send({ login, displayName: 'Again' })
              .expect(409)
          ).body.code,
        ).toBe('conflict');
        await request(t.url).delete(`/api/v1/admin/users/${user.id}`).set(admin()).expect(404);
        const [event] = await t.app
          .get(DataSource)
          .query(`SELECT actor_id, detail FROM audit_events WHERE type = 'user.deleted' AND user_id = $1`, [user.id]);
        expect(event).toMatchObject({
          actor_id: cast.admin.user.id,
          detail: { hard: false, revokedSessions: 1, requestId: expect.any(String) },
        });
      });

      it('hard (?hard=true): the row and its sessions go; the login is free again', async () => {
        const { user, login } = await createUser(t);
        const web = await loginWeb(t, login);
        await request(t.url).delete(`/api/v1/admin/users/${user.id}?hard=true`).set(admin()).expect(204);
        await request(t.url).get('/api/v1/me').set(bearer(web.accessToken)).expect(401);
        expect(await t.app.get(DataSource).query('SELECT 1 FROM users WHERE id = $1', [user.id])).toEqual([]);
        await request(t.url)
          .post('/api/v1/admin/users')
          .set(admin())
          .send({ login, displayName: 'Reborn' })
          .expect(201);
        await request(t.url).delete(`/api/v1/admin/users/${user.id}?hard=maybe`).set(admin()).expect(400);
      });

      it('hard after soft: a soft-deleted user can still be removed for good', async () => {
        const { user } = await createUser(t);
        await request(t.url).delete(`/api/v1/admin/users/${user.id}`).set(admin()).expect(204);
        await request(t.url).delete(`/api/v1/admin/users/${user.id}?hard=true`).set(admin()).expect(204);
        expect(await t.app.get(DataSource).query('SELECT 1 FROM users WHERE id = $1', [user.id])).toEqual([]);
        await request(t.url).delete(`/api/v1/admin/users/${user.id}?hard=true`).set(admin()).expect(404);
      });

      it('routes without query parameters refuse unknown ones too', async () => {
        const { user } = await createUser(t);
        for (const path of [`/api/v1/admin/users/${user.id}?x=1`, '/api/v1/admin/providers?x=1']) {
          expect((await request(t.url).get(path).set(admin()).expect(400)).body.code).toBe('validation.failed');
        }
        await request(t.url).delete(`/api/v1/admin/users/${user.id}/sessions?x=1`).set(admin()).expect(400);
      });
    });
  });
});
