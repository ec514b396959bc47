import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { Clock } from '../../src/common/clock/clock.js';
import { cookiePair, cookieToken, expectError, refreshSetCookie } from '../support/http.js';
import { auditRows, db, sessionRow } from '../support/rows.js';
import { describeWith, REAL_SERVICES_NEED, uniquePrefix } from '../support/services.js';
import { NO_LOGIN_LIMITS, TEST_DATABASE_URL, TEST_REDIS_URL, testConfig } from '../support/test-config.js';
import { sleep } from '../support/time-limits.js';
import { bearer, createUser, loginMobile, loginWeb, TEST_PASSWORD } from '../support/accounts.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { FakeClock } from '../support/fake-clock.js';
import { freshDatabase } from '../support/fresh-database.js';

const ORIGIN = 'http://localhost:3000'; // testConfig's default PUBLIC_URL origin
const GRACE_MS = 5_000; // REFRESH_REUSE_GRACE_SECONDS default

describe('device sessions and refresh tokens (embedded, fake clock)', () => {
  let t: TestApp;
  // Real "now", so the JWTs' own iat/exp (real time) and the sessions' windows agree.
  const clock = new FakeClock(Date.now());

  beforeAll(async () => {
    t = await createTestApp({
      config: testConfig({ DEMO_USER: 'off', ...NO_LOGIN_LIMITS }),
      override: (b) => b.overrideProvider(Clock).useValue(clock),
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const me = (token: string) => request(t.url).get('/api/v1/me').set(bearer(token));
  const refreshMobile = (refreshToken: string) => request(t.url).post('/api/v1/auth/refresh').send({ refreshToken });
  const refreshWeb = (cookie: string, origin: string | null = ORIGIN) => {
    const req = request(t.url).post('/api/v1/auth/refresh').set('Cookie', cookie);
    return origin === null ? req : req.set('Origin', origin);
  };

  describe('one mobile session per device', () => {
    it('a repeat sign-in on the same device revokes the old session: its access token (next request) and refresh token are refused', async () => {
      const { login } = await createUser(t);
      const first = await loginMobile(t, login, TEST_PASSWORD, { id: 'device-repeat-1' });
      await me(first.accessToken).expect(200);
      const second = await loginMobile(t, login, TEST_PASSWORD, { id: 'device-repeat-1' });
      expect(second.sessionId).not.toBe(first.sessionId);
      expectError(await me(first.accessToken), 401, 'auth.unauthenticated');
      expect((await refreshMobile(first.refreshToken)).status).toBe(401);
      await me(second.accessToken).expect(200);
      expect(await sessionRow(t, first.sessionId)).toMatchObject({
        revoke_reason: 'replaced',
        revoked_at: expect.any(Date),
      });
    });

    it('GET /me/sessions lists one session for the device, and a revoked session never comes back', async () => {
      const { login } = await createUser(t);
      const other = await loginMobile(t, login, TEST_PASSWORD, { id: 'device-other-1' });
      const s1 = await loginMobile(t, login, TEST_PASSWORD, { id: 'device-list-1' });
      const s2 = await loginMobile(t, login, TEST_PASSWORD, { id: 'device-list-1' });
      const s3 = await loginMobile(t, login, TEST_PASSWORD, { id: 'device-list-1' });
      const res = await request(t.url).get('/api/v1/me/sessions').set(bearer(s3.accessToken)).expect(200);
      const forDevice = res.body.items.filter(
        (s: { device: { id: string } | null }) => s.device?.id === 'device-list-1',
      );
      expect(forDevice).toEqual([expect.objectContaining({ id: s3.sessionId, current: true })]);
      expect(res.body.items.map((s: { id: string }) => s.id).sort()).toEqual([other.sessionId, s3.sessionId].sort());
      for (const old of [s1, s2]) {
        expectError(await me(old.accessToken), 401, 'auth.unauthenticated');
        expect((await refreshMobile(old.refreshToken)).status).toBe(401);
        expect((await sessionRow(t, old.sessionId))!.revoked_at).not.toBeNull();
      }
      // Well past the revocation: still dead, still not listed.
      clock.advance(60_000);
      expect((await refreshMobile(s1.refreshToken)).status).toBe(401);
      const again = await request(t.url).get('/api/v1/me/sessions').set(bearer(s3.accessToken)).expect(200);
      expect(again.body.items.map((s: { id: string }) => s.id)).not.toContain(s1.sessionId);
      await me(other.accessToken).expect(200);
    });

    it('the same device id under another user does not touch the first user’s session', async () => {
      const { login: a } = await createUser(t);
      const { login: b } = await createUser(t);
      const sa = await loginMobile(t, a, TEST_PASSWORD, { id: 'device-shared-1' });
      const sb = await loginMobile(t, b, TEST_PASSWORD, { id: 'device-shared-1' });
      await me(sa.accessToken).expect(200);
      await me(sb.accessToken).expect(200);
    });

    it('a web sign-in never replaces a mobile session, and web sessions add up', async () => {
      const { login } = await createUser(t);
      const phone = await loginMobile(t, login);
      const w1 = await loginWeb(t, login);
      const w2 = await loginWeb(t, login);
      for (const token of [phone.accessToken, w1.accessToken, w2.accessToken]) await me(token).expect(200);
    });
  });

  describe('mobile refresh (body)', () => {
    it('rotates: new access and refresh tokens that work, and the session is the same', async () => {
      const { login } = await createUser(t);
      const s = await loginMobile(t, login);
      const res = await refreshMobile(s.refreshToken).expect(200);
      expect(res.body).toEqual({
        accessToken: expect.any(String),
        expiresIn: expect.any(Number),
        refreshToken: expect.any(String),
        sessionId: s.sessionId,
        user: expect.objectContaining({ login }),
      });
      expect(res.body.refreshToken).not.toBe(s.refreshToken);
      expect(res.headers['set-cookie']).toBeUndefined();
      await me(res.body.accessToken).expect(200);
      await refreshMobile(res.body.refreshToken).expect(200);
    });

    it('a replay within the grace period is 401 auth.unauthenticated and the session lives on', async () => {
      const { login } = await createUser(t);
      const s = await loginMobile(t, login);
      const next = (await refreshMobile(s.refreshToken).expect(200)).body;
      clock.advance(GRACE_MS - 1_000);
      expectError(await refreshMobile(s.refreshToken), 401, 'auth.unauthenticated');
      await me(next.accessToken).expect(200);
      await me(s.accessToken).expect(200);
      const after = (await refreshMobile(next.refreshToken).expect(200)).body;
      await me(after.accessToken).expect(200);
      expect((await sessionRow(t, s.sessionId))!.revoked_at).toBeNull();
    });

    it('a replay after the grace period is 401 auth.refresh_reused and revokes the whole session (new tokens too), with an audit event', async () => {
      const { user, login } = await createUser(t);
      const s = await loginMobile(t, login);
      const next = (await refreshMobile(s.refreshToken).expect(200)).body;
      clock.advance(GRACE_MS + 1_000);
      expectError(await refreshMobile(s.refreshToken), 401, 'auth.refresh_reused');
      expectError(await me(next.accessToken), 401, 'auth.unauthenticated');
      expectError(await me(s.accessToken), 401, 'auth.unauthenticated');
      expect((await refreshMobile(next.refreshToken)).status).toBe(401);
      expect(await sessionRow(t, s.sessionId)).toMatchObject({
        revoke_reason: 'refresh_reused',
        revoked_at: expect.any(Date),
      });
      // Presenting it again changes nothing and is still refused.
      expect((await refreshMobile(s.refreshToken)).status).toBe(401);
      const events = await auditRows(t, `type = 'auth.refresh_reused' AND session_id = $1`, [s.sessionId]);
      expect(events).toEqual([expect.objectContaining({ user_id: user.id })]);
      expect(JSON.stringify(events)).not.toContain(s.refreshToken);
    });

    it('ten parallel refreshes of one token: exactly one 200, and the winner’s tokens keep working', async () => {
      const { login } = await createUser(t);
      const s = await loginMobile(t, login);
      const results = await Promise.all(Array.from({ length: 10 }, () => refreshMobile(s.refreshToken)));
      const winners = results.filter((r) => r.status === 200);
      expect(winners).toHaveLength(1);
      for (const loser of results.filter((r) => r.status !== 200)) expectError(loser, 401, 'auth.unauthenticated');
      const won = winners[0]!.body;
      await me(won.accessToken).expect(200);
      const after = (await refreshMobile(won.refreshToken).expect(200)).body;
      await me(after.accessToken).expect(200);
    });

    it('an unknown refresh token is 401 auth.unauthenticated; a malformed one is 400 validation.failed', async () => {
      expectError(await refreshMobile('A'.repeat(43)), 401, 'auth.unauthenticated');
      expectError(await refreshMobile('not a token!'), 400, 'validation.failed');
      expectError(
        await request(t.url)
          .post('/api/v1/auth/refresh')
          .send({ refreshToken: 'A'.repeat(43), extra: 1 }),
        400,
        'validation.failed',
      );
    });

    it('a mobile refresh token is refused through the cookie, and stays usable in the body', async () => {
      const { login } = await createUser(t);
      const s = await loginMobile(t, login);
      expectError(await refreshWeb(`sg_refresh=${s.refreshToken}`), 401, 'auth.unauthenticated');
      await refreshMobile(s.refreshToken).expect(200);
    });
  });

  describe('web refresh (cookie)', () => {
    it('cookie + same-origin Origin: 200, a new cookie, no refresh token in the body, and the old cookie is dead', async () => {
      const { login } = await createUser(t);
      const w = await loginWeb(t, login);
      const res = await refreshWeb(w.cookie).expect(200);
      expect(res.body).not.toHaveProperty('refreshToken');
      expect(res.body).toMatchObject({ sessionId: w.sessionId, accessToken: expect.any(String) });
      const next = refreshSetCookie(res)!;
      expect(next).toBeDefined();
      const token = cookieToken(next);
      expect(token).not.toBe(cookieToken(w.setCookie));
      expect(JSON.stringify(res.body)).not.toContain(token);
      expect(next.toLowerCase()).toContain('httponly');
      await me(res.body.accessToken).expect(200);
      expect((await refreshWeb(w.cookie)).status).toBe(401);
      await refreshWeb(cookiePair(next)).expect(200);
    });

    it('a missing or foreign Origin is 403 auth.forbidden, and does not use up the cookie', async () => {
      const { login } = await createUser(t);
      const w = await loginWeb(t, login);
      expectError(await refreshWeb(w.cookie, null), 403, 'auth.forbidden');
      expectError(await refreshWeb(w.cookie, 'https://evil.example'), 403, 'auth.forbidden');
      expectError(await refreshWeb(w.cookie, 'http://localhost:3001'), 403, 'auth.forbidden');
      expectError(await refreshWeb(w.cookie, 'null'), 403, 'auth.forbidden');
      await refreshWeb(w.cookie).expect(200);
    });

    it('no cookie (and no body token) is 401 auth.unauthenticated', async () => {
      expectError(await request(t.url).post('/api/v1/auth/refresh').set('Origin', ORIGIN), 401, 'auth.unauthenticated');
      expectError(
        await request(t.url).post('/api/v1/auth/refresh').set('Origin', ORIGIN).send({}),
        401,
        'auth.unauthenticated',
      );
    });

    it('a web session’s refresh token is refused in a mobile body, and the cookie stays usable', async () => {
      const { login } = await createUser(t);
      const w = await loginWeb(t, login);
      const res = await refreshMobile(cookieToken(w.setCookie));
      expectError(res, 401, 'auth.unauthenticated');
      expect(res.body.accessToken).toBeUndefined();
      await refreshWeb(w.cookie).expect(200);
    });

    it('a cookie replay after the grace period is auth.refresh_reused, revokes the session and clears the cookie', async () => {
      const { login } = await createUser(t);
      const w = await loginWeb(t, login);
      const next = await refreshWeb(w.cookie).expect(200);
      clock.advance(GRACE_MS + 1_000);
      const replay = await refreshWeb(w.cookie);
      expectError(replay, 401, 'auth.refresh_reused');
      expect(cookieToken(refreshSetCookie(replay)!)).toBe('');
      expectError(await me(next.body.accessToken), 401, 'auth.unauthenticated');
      expect((await refreshWeb(cookiePair(refreshSetCookie(next)!))).status).toBe(401);
    });
  });
});

describeWith(REAL_SERVICES_NEED, 'instant revocation across two instances (real Postgres and Redis)', () => {
  let a: TestApp;
  let b: TestApp;
  let database: { url: string; drop(): Promise<void> };

  beforeAll(async () => {
    database = await freshDatabase(TEST_DATABASE_URL!);
    const config = testConfig({
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      STORE_KEY_PREFIX: uniquePrefix('sessions'),
      REFRESH_REUSE_GRACE_SECONDS: '1',
      DEMO_USER: 'off',
      ...NO_LOGIN_LIMITS,
    });
    a = await createTestApp({ config });
    b = await createTestApp({ config });
  }, 30_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  const meOn = (t: TestApp, token: string) => request(t.url).get('/api/v1/me').set(bearer(token));

  it('a token from instance A works on B; logout on A is refused on B on the very next request', async () => {
    const { login } = await createUser(a);
    const s = await loginMobile(a, login);
    await meOn(b, s.accessToken).expect(200);
    await request(a.url).post('/api/v1/auth/logout').set(bearer(s.accessToken)).expect(204);
    expectError(await meOn(b, s.accessToken), 401, 'auth.unauthenticated');
    expect((await request(b.url).post('/api/v1/auth/refresh').send({ refreshToken: s.refreshToken })).status).toBe(401);
  });

  it('DELETE /me/sessions/{id} on A: that session’s token is refused on B', async () => {
    const { login } = await createUser(a);
    const keep = await loginMobile(a, login);
    const victim = await loginWeb(b, login);
    await meOn(b, victim.accessToken).expect(200);
    await request(a.url).delete(`/api/v1/me/sessions/${victim.sessionId}`).set(bearer(keep.accessToken)).expect(204);
    expectError(await meOn(b, victim.accessToken), 401, 'auth.unauthenticated');
    await meOn(b, keep.accessToken).expect(200);
  });

  it('a repeat sign-in of a device on B refuses the old session’s token on A', async () => {
    const { login } = await createUser(a);
    const first = await loginMobile(a, login, TEST_PASSWORD, { id: 'real-device-1' });
    const second = await loginMobile(b, login, TEST_PASSWORD, { id: 'real-device-1' });
    expectError(await meOn(a, first.accessToken), 401, 'auth.unauthenticated');
    await meOn(a, second.accessToken).expect(200);
  });

  it('parallel sign-ins of one device (over both instances) all succeed, and leave exactly one active session for it', async () => {
    const { user, login } = await createUser(a);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        request((i % 2 ? a : b).url)
          .post('/api/v1/auth/login')
          .send({
            login,
            password: TEST_PASSWORD,
            device: { id: 'real-race-device', name: 'Racer', platform: 'android' },
          }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    const active = (await db(a).query(
      'SELECT id FROM sessions WHERE user_id = $1 AND device_id = $2 AND revoked_at IS NULL',
      [user.id, 'real-race-device'],
    )) as Array<{ id: string }>;
    expect(active).toHaveLength(1);
    const winner = results.find((r) => r.body.sessionId === active[0]!.id)!;
    await meOn(b, winner.body.accessToken).expect(200);
    for (const loser of results.filter((r) => r !== winner))
      expectError(await meOn(a, loser.body.accessToken), 401, 'auth.unauthenticated');
  });

  it('an admin disabling a user on A: its mobile and web tokens are refused on B at once, refresh and sign-in too; re-enabled, old sessions stay dead', async () => {
    const { login: adminLogin } = await createUser(a, { roles: ['admin'] });
    const admin = await loginMobile(a, adminLogin);
    const { user, login } = await createUser(a);
    const phone = await loginMobile(b, login);
    const browser = await loginWeb(b, login);
    await meOn(b, phone.accessToken).expect(200);
    await meOn(b, browser.accessToken).expect(200);

    await request(a.url)
      .patch(`/api/v1/admin/users/${user.id}`)
      .set(bearer(admin.accessToken))
      .send({ status: 'disabled' })
      .expect(200);
    expectError(await meOn(b, phone.accessToken), 401, 'auth.unauthenticated');
    expectError(await meOn(b, browser.accessToken), 401, 'auth.unauthenticated');
    expect((await request(b.url).post('/api/v1/auth/refresh').send({ refreshToken: phone.refreshToken })).status).toBe(
      401,
    );
    expect(
      (await request(b.url).post('/api/v1/auth/refresh').set('Origin', ORIGIN).set('Cookie', browser.cookie)).status,
    ).toBe(401);
    expectError(
      await request(b.url).post('/api/v1/auth/login').send({ login, password: TEST_PASSWORD }),
      403,
      'auth.account_disabled',
    );

    await request(a.url)
      .patch(`/api/v1/admin/users/${user.id}`)
      .set(bearer(admin.accessToken))
      .send({ status: 'active' })
      .expect(200);
    const again = await loginMobile(b, login);
    await meOn(a, again.accessToken).expect(200);
    expectError(await meOn(a, phone.accessToken), 401, 'auth.unauthenticated');
    expectError(await meOn(b, browser.accessToken), 401, 'auth.unauthenticated');
    expect((await request(a.url).post('/api/v1/auth/refresh').send({ refreshToken: phone.refreshToken })).status).toBe(
      401,
    );
  });

  it('refresh reuse seen on B revokes the session for A', async () => {
    const { login } = await createUser(a);
    const s = await loginMobile(a, login);
    const next = (await request(a.url).post('/api/v1/auth/refresh').send({ refreshToken: s.refreshToken }).expect(200))
      .body;
    await sleep(1_100); // past REFRESH_REUSE_GRACE_SECONDS=1
    expectError(
      await request(b.url).post('/api/v1/auth/refresh').send({ refreshToken: s.refreshToken }),
      401,
      'auth.refresh_reused',
    );
    expectError(await meOn(a, next.accessToken), 401, 'auth.unauthenticated');
    expect((await request(a.url).post('/api/v1/auth/refresh').send({ refreshToken: next.refreshToken })).status).toBe(
      401,
    );
  });

  it('ten parallel refreshes of one token over both instances (a real connection pool): exactly one 200', async () => {
    const { login } = await createUser(a);
    const s = await loginMobile(a, login);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        request((i % 2 ? a : b).url)
          .post('/api/v1/auth/refresh')
          .send({ refreshToken: s.refreshToken }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, ...Array(9).fill(401)]);
    const won = results.find((r) => r.status === 200)!.body;
    await meOn(b, won.accessToken).expect(200);
    await request(a.url).post('/api/v1/auth/refresh').send({ refreshToken: won.refreshToken }).expect(200);
    const rows = (await db(a).query('SELECT count(*)::int AS n FROM refresh_tokens WHERE session_id = $1', [
      s.sessionId,
    ])) as Array<{ n: number }>;
    expect(rows[0]!.n).toBe(3); // the first, the winner's, and its successor: no loser minted one
  });
});
