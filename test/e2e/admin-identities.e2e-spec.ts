import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { expectError } from '../support/http.js';
import { auditRows, db, insertIdentity } from '../support/rows.js';
import { NO_LOGIN_LIMITS, testConfig } from '../support/test-config.js';
import { bearer, createUser } from '../support/accounts.js';
import { adminCast, expectDocumented } from '../support/admin.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { backends, describeWith } from '../support/services.js';

/** Admin identities API (PROTOCOL.md § Operators): list a user's identities, unlink one but never the last way in. */

const NOBODY = '00000000-0000-4000-8000-000000000000';
const IDENTITY_KEYS = ['id', 'linkedAt', 'profile', 'provider', 'subject', 'subjectKind'];
/** The routes of this resource in the OpenAPI document: path, method, query fields. */
const ROUTES: Array<[string, string, string[]]> = [
  ['/api/v1/admin/users/{id}/identities', 'get', ['limit', 'cursor']],
  ['/api/v1/admin/users/{id}/identities/{identityId}', 'delete', []],
];

describe.each(backends('adm-id'))('admin identities API on %s', (_name, need, backend) => {
  describeWith(need, 'GET/DELETE /admin/users/{id}/identities', () => {
    let t: TestApp;
    let dispose: () => Promise<void>;
    let cast: Awaited<ReturnType<typeof adminCast>>;

    beforeAll(async () => {
      const b = await backend();
      dispose = b.dispose;
      t = await createTestApp({
        database: b.database,
        config: testConfig({ LOG_LEVEL: 'warn', RATE_LIMITS: 'off', DEMO_USER: 'off', ...NO_LOGIN_LIMITS, ...b.env }),
      });
      cast = await adminCast(t);
    });

    afterAll(async () => {
      await t?.close();
      await dispose?.();
    });

    const list = (token: string, userId: string, query = '') =>
      request(t.url).get(`/api/v1/admin/users/${userId}/identities${query}`).set(bearer(token));
    const unlink = (token: string, userId: string, identityId: string) =>
      request(t.url).delete(`/api/v1/admin/users/${userId}/identities/${identityId}`).set(bearer(token));
    const identityIds = async (userId: string) =>
      (
        (await db(t).query('SELECT id FROM identities WHERE user_id = $1 ORDER BY linked_at, id', [userId])) as Array<{
          id: string;
        }>
      ).map((r) => r.id);

    /** A user with identities linked one after the other (distinct link times). */
    async function userWith(providers: string[], options: { password?: null } = {}) {
      const { user } = await createUser(t, options);
      const ids: string[] = [];
      for (const provider of providers) {
        ids.push(await insertIdentity(t, user.id, provider, `${provider}-${user.id}`));
        await db(t).query(`UPDATE identities SET linked_at = now() - make_interval(secs => $2) WHERE id = $1`, [
          ids.at(-1),
          100 - ids.length,
        ]);
      }
      return { user, ids };
    }

    it('documents every route in the OpenAPI document with an example answer and its query fields', async () => {
      await expectDocumented(t, ROUTES);
    });

    describe('GET /admin/users/{id}/identities', () => {
      it('lists the user’s identities, oldest link first, in the list contract', async () => {
        const { user, ids } = await userWith(['wechat', 'dingtalk']);
        const res = await list(cast.admin.accessToken, user.id).expect(200);
        expect(Object.keys(res.body).sort()).toEqual(['items', 'nextCursor']);
        expect(res.body.nextCursor).toBeNull();
        expect(res.body.items.map((i: { id: string }) => i.id)).toEqual(ids);
        for (const item of res.body.items) expect(Object.keys(item).sort()).toEqual(IDENTITY_KEYS);
        expect(res.body.items[0]).toEqual({
          id: ids[0],
          provider: 'wechat',
          subject: `wechat-${user.id}`,
          subjectKind: 'unionid',
          profile: {},
          linkedAt: expect.any(String),
        });
        await list(cast.auditor.accessToken, user.id).expect(200);
      });

      it('pages with limit and cursor', async () => {
        const { user, ids } = await userWith(['wechat', 'dingtalk', 'alipay']);
        const first = await list(cast.admin.accessToken, user.id, '?limit=2').expect(200);
        expect(first.body.items.map((i: { id: string }) => i.id)).toEqual(ids.slice(0, 2));
        const second = await list(cast.admin.accessToken, user.id, `?limit=2&cursor=${first.body.nextCursor}`).expect(
          200,
        );
        expect(second.body.items.map((i: { id: string }) => i.id)).toEqual(ids.slice(2));
        expect(second.body.nextCursor).toBeNull();
      });

      it('an unknown, malformed or deleted user is 404 not_found; unknown query fields and bad limits or cursors are 400 validation.failed', async () => {
        expectError(await list(cast.admin.accessToken, NOBODY), 404, 'not_found');
        expectError(await list(cast.admin.accessToken, 'malformed'), 404, 'not_found');
        const deleted = await userWith(['wechat']);
        await db(t).query('UPDATE users SET deleted_at = now() WHERE id = $1', [deleted.user.id]);
        expectError(await list(cast.admin.accessToken, deleted.user.id), 404, 'not_found');
        expectError(await unlink(cast.admin.accessToken, deleted.user.id, deleted.ids[0]!), 404, 'not_found');
        const { user } = await userWith(['wechat']);
        for (const query of [
          '?provider=wechat',
          '?limit=0',
          '?limit=500',
          '?cursor=%21%21',
          `?cursor=${Buffer.from('["identities:linkedAt","x","y"]').toString('base64url')}`,
        ]) {
          expectError(await list(cast.admin.accessToken, user.id, query), 400, 'validation.failed');
        }
      });
    });

    describe('DELETE /admin/users/{id}/identities/{identityId}', () => {
      it('unlinks it (204): gone from the list, audited as identity.unlinked with the acting admin, the request id and the before/after', async () => {
        const { user, ids } = await userWith(['wechat', 'dingtalk']);
        const res = await unlink(cast.admin.accessToken, user.id, ids[0]!)
          .set('X-Request-Id', 'req-admin-unlink-1')
          .expect(204);
        expect(res.text).toBe('');
        expect(await identityIds(user.id)).toEqual([ids[1]]);
        expect(
          (await list(cast.admin.accessToken, user.id).expect(200)).body.items.map((i: { id: string }) => i.id),
        ).toEqual([ids[1]]);

        const rows = await auditRows(t, `type = 'identity.unlinked' AND user_id = $1`, [user.id]);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({
          actor_id: cast.admin.user.id,
          user_id: user.id,
          ip: expect.any(String),
          detail: {
            requestId: 'req-admin-unlink-1',
            via: 'admin',
            identity: ids[0],
            provider: 'wechat',
            subjectKind: 'unionid',
            changes: {
              identity: {
                before: { id: ids[0], provider: 'wechat', subject: `wechat-${user.id}`, subjectKind: 'unionid' },
                after: null,
              },
            },
          },
        });
      });

      it('a user with a password may unlink their only identity', async () => {
        const { user, ids } = await userWith(['alipay']);
        await unlink(cast.admin.accessToken, user.id, ids[0]!).expect(204);
        expect(await identityIds(user.id)).toEqual([]);
      });

      it('the last way to sign in (no password, one identity) is refused with 409 identity.last_method, kept, and nothing is audited', async () => {
        const { user, ids } = await userWith(['wechat', 'dingtalk'], { password: null });
        await unlink(cast.admin.accessToken, user.id, ids[0]!).expect(204);
        expectError(await unlink(cast.admin.accessToken, user.id, ids[1]!), 409, 'identity.last_method');
        expect(await identityIds(user.id)).toEqual([ids[1]]);
        expect(
          (await auditRows(t, `type = 'identity.unlinked' AND user_id = $1`, [user.id])).map((r) => r.detail.identity),
        ).toEqual([ids[0]]);
      });

      it('two parallel unlinks of a password-less user’s two identities: exactly one succeeds, the other is 409', async () => {
        const { user, ids } = await userWith(['wechat', 'dingtalk'], { password: null });
        const answers = await Promise.all(ids.map((id) => unlink(cast.admin.accessToken, user.id, id)));
        expect(answers.map((r) => r.status).sort()).toEqual([204, 409]);
        expect(await identityIds(user.id)).toHaveLength(1);
      });

      it('another user’s identity, an unknown or malformed identity id, an unknown user: 404 not_found, nothing removed', async () => {
        const a = await userWith(['wechat']);
        const b = await userWith(['wechat', 'dingtalk']);
        expectError(await unlink(cast.admin.accessToken, a.user.id, b.ids[0]!), 404, 'not_found');
        expectError(await unlink(cast.admin.accessToken, a.user.id, NOBODY), 404, 'not_found');
        expectError(await unlink(cast.admin.accessToken, a.user.id, 'malformed'), 404, 'not_found');
        expectError(await unlink(cast.admin.accessToken, NOBODY, b.ids[0]!), 404, 'not_found');
        expect(await identityIds(b.user.id)).toEqual(b.ids);
      });
    });

    describe('roles', () => {
      it('an auditor may list but not unlink (403); a user-role caller is 403 on both; anonymous 401; nothing removed', async () => {
        const { user, ids } = await userWith(['wechat', 'dingtalk']);
        await list(cast.auditor.accessToken, user.id).expect(200);
        expectError(await unlink(cast.auditor.accessToken, user.id, ids[0]!), 403, 'auth.forbidden');
        expectError(await list(cast.user.accessToken, user.id), 403, 'auth.forbidden');
        expectError(await unlink(cast.user.accessToken, user.id, ids[0]!), 403, 'auth.forbidden');
        expectError(await request(t.url).get(`/api/v1/admin/users/${user.id}/identities`), 401, 'auth.unauthenticated');
        expectError(
          await request(t.url).delete(`/api/v1/admin/users/${user.id}/identities/${ids[0]}`),
          401,
          'auth.unauthenticated',
        );
        expect(await identityIds(user.id)).toEqual(ids);
      });
    });
  });
});
