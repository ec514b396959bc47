import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { SigningKeysService } from '../../src/auth/keys/signing-keys.service.js';
import { bearer, createUser, loginMobile, loginWeb, TEST_PASSWORD } from '../support/accounts.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { freshDatabase } from '../support/fresh-database.js';
import { deleteKeys } from '../support/redis-server.js';
import { describeWith } from '../support/services.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL, testConfig } from '../support/test-config.js';
import {
  GuardProbeController,
  PRINCIPAL_ROUTE,
  countQueries,
  decodeJwt,
  inParallel,
  jwksKids,
} from '../support/tokens.js';

/**
 * Two instances of the application sharing one real Postgres database and one
 * real Redis (issue 3 § Instant revocation): signing keys are shared, and a
 * revocation or a disabled user made on one is refused by the other on the very
 * next request, with no SQL query on the request path.
 */
const ME = '/api/v1/me';

async function status(t: TestApp, token: string, route = ME): Promise<{ status: number; code: string | undefined }> {
  const res = await request(t.url).get(route).set(bearer(token));
  return { status: res.status, code: res.body.code as string | undefined };
}
const OK = { status: 200, code: undefined };
const REFUSED = { status: 401, code: 'auth.unauthenticated' };

describeWith(
  TEST_DATABASE_URL && TEST_REDIS_URL ? undefined : 'TEST_DATABASE_URL and TEST_REDIS_URL are not set',
  'two instances sharing Postgres and Redis',
  () => {
    const prefix = `sgtest-multi-${randomBytes(4).toString('hex')}:`;
    let db: { url: string; drop(): Promise<void> };
    let a: TestApp;
    let b: TestApp;

    beforeAll(async () => {
      db = await freshDatabase(TEST_DATABASE_URL!);
      const config = testConfig({
        LOG_LEVEL: 'warn',
        DATABASE_URL: db.url,
        REDIS_URL: TEST_REDIS_URL,
        STORE_KEY_PREFIX: prefix,
        RATE_LIMITS: 'off',
      });
      // Started together: migrations and the first signing key are made once, under locks.
      [a, b] = await Promise.all([
        createTestApp({ config, controllers: [GuardProbeController] }),
        createTestApp({ config, controllers: [GuardProbeController] }),
      ]);
    }, 60_000);

    afterAll(async () => {
      await Promise.allSettled([a?.close(), b?.close()]);
      await db?.drop();
      const redis = new Redis(TEST_REDIS_URL!, { lazyConnect: true });
      await redis.connect();
      await deleteKeys(redis, prefix);
      redis.disconnect();
    });

    // First, while no periodic key poll can have run (it runs every 60 s after boot).
    it('the guard issues no SQL: 0 queries over 100 authenticated requests on each instance (the counter sees GET /me’s)', async () => {
      const { login } = await createUser(a);
      const { accessToken } = await loginMobile(a, login);
      // Warm each instance once: the public key set is then cached.
      expect(await status(a, accessToken, PRINCIPAL_ROUTE)).toEqual(OK);
      expect(await status(b, accessToken, PRINCIPAL_ROUTE)).toEqual(OK);

      for (const t of [a, b]) {
        const queries = countQueries(t.app);
        try {
          // The counter sees real queries: GET /api/v1/me loads the user.
          expect(await status(t, accessToken)).toEqual(OK);
          expect(queries.take().filter((q) => /\busers\b/.test(q)).length).toBeGreaterThanOrEqual(1);

          await inParallel(100, 10, async () => {
            expect(await status(t, accessToken, PRINCIPAL_ROUTE)).toEqual(OK);
          });
          expect(queries.take()).toEqual([]);
        } finally {
          queries.stop();
        }
      }
    });

    it('the instances started together share one signing key', async () => {
      const kids = await jwksKids(a);
      expect(kids).toHaveLength(1);
      expect(await jwksKids(b)).toEqual(kids);
      expect(a.app.get(SigningKeysService).signingKey().kid).toBe(kids[0]);
      expect(b.app.get(SigningKeysService).signingKey().kid).toBe(kids[0]);
      const rows = await a.app.get(DataSource).query('SELECT count(*)::int AS n FROM signing_keys');
      expect(rows[0].n).toBe(1);
    });

    it('a token issued by A is accepted by B, and one issued by B by A', async () => {
      const { login } = await createUser(a);
      const fromA = await loginMobile(a, login);
      const fromB = await loginWeb(b, login);
      expect(await status(b, fromA.accessToken)).toEqual(OK);
      expect(await status(a, fromB.accessToken)).toEqual(OK);
    });

    it('a session revoked on A (DELETE /me/sessions/:id) is refused by B on the very next request', async () => {
      const { login } = await createUser(a);
      const victim = await loginMobile(a, login);
      const other = await loginMobile(a, login);
      expect(await status(b, victim.accessToken)).toEqual(OK);
      await request(a.url).delete(`/api/v1/me/sessions/${victim.sessionId}`).set(bearer(other.accessToken)).expect(204);
      expect(await status(b, victim.accessToken, PRINCIPAL_ROUTE)).toEqual(REFUSED);
      expect(await status(b, victim.accessToken)).toEqual(REFUSED);
      expect(await status(b, other.accessToken)).toEqual(OK);
    });

    it('a logout on A is refused by B on the very next request', async () => {
      const { login } = await createUser(a);
      const session = await loginWeb(a, login);
      expect(await status(b, session.accessToken, PRINCIPAL_ROUTE)).toEqual(OK);
      await request(a.url).post('/api/v1/auth/logout').set(bearer(session.accessToken)).expect(204);
      expect(await status(b, session.accessToken, PRINCIPAL_ROUTE)).toEqual(REFUSED);
    });

    it('a user disabled on A through the admin API is refused by B on the very next request, and cannot sign in on B', async () => {
      const admin = await createUser(a, { roles: ['admin'] });
      const target = await createUser(a);
      const adminToken = (await loginMobile(a, admin.login)).accessToken;
      const phone = await loginMobile(b, target.login);
      const browser = await loginWeb(a, target.login);
      expect(await status(b, phone.accessToken, PRINCIPAL_ROUTE)).toEqual(OK);
      expect(await status(b, browser.accessToken, PRINCIPAL_ROUTE)).toEqual(OK);

      const res = await request(a.url)
        .patch(`/api/v1/admin/users/${target.user.id}`)
        .set(bearer(adminToken))
        .send({ status: 'disabled' })
        .expect(200);
      expect(res.body.status).toBe('disabled');

      expect(await status(b, phone.accessToken, PRINCIPAL_ROUTE)).toEqual(REFUSED);
      expect(await status(b, browser.accessToken, PRINCIPAL_ROUTE)).toEqual(REFUSED);
      const again = await request(b.url)
        .post('/api/v1/auth/login')
        .send({ login: target.login, password: TEST_PASSWORD })
        .expect(403);
      expect(again.body.code).toBe('auth.account_disabled');
      // The admin's own session is untouched.
      expect(await status(b, adminToken, PRINCIPAL_ROUTE)).toEqual(OK);
    });

    it('after a key rotation on A, B verifies A’s new tokens at once and signs with the new key too', async () => {
      const { login } = await createUser(a);
      const before = await loginMobile(a, login);
      const oldKid = decodeJwt(before.accessToken).header.kid as string;
      expect(await status(b, before.accessToken, PRINCIPAL_ROUTE)).toEqual(OK); // B has the old key set cached

      const newKid = await a.app.get(SigningKeysService).rotate();
      const after = await loginMobile(a, login);
      expect(decodeJwt(after.accessToken).header.kid).toBe(newKid);
      expect(await status(b, after.accessToken, PRINCIPAL_ROUTE)).toEqual(OK);
      expect(await status(b, before.accessToken, PRINCIPAL_ROUTE)).toEqual(OK);
      expect(await jwksKids(b)).toEqual([oldKid, newKid].sort());

      // B hears of the rotation (auth:keys-changed) and signs with the new key.
      const deadline = Date.now() + 3_000;
      while (b.app.get(SigningKeysService).signingKey().kid !== newKid && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const onB = await loginMobile(b, login);
      expect(decodeJwt(onB.accessToken).header.kid).toBe(newKid);
      expect(await status(a, onB.accessToken, PRINCIPAL_ROUTE)).toEqual(OK);
    });
  },
);
