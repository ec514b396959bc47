import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { Clock } from '../../src/common/clock/clock.js';
import { expectError } from '../support/http.js';
import { db } from '../support/rows.js';
import { createUser } from '../support/accounts.js';
import { adminCast } from '../support/admin.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { FakeClock } from '../support/fake-clock.js';
import { confirm, createQr, exchange, scan, signInPhone } from '../support/qr.js';
import { backends, describeWith } from '../support/services.js';
import { testConfig } from '../support/test-config.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface Seed {
  type: string;
  at: string | Date;
  detail?: Record<string, unknown>;
}

/** A QR session id's audit key: its first 8 characters, as the QR service records it. */
const qrKey = () => randomBytes(6).toString('base64url');
const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

/**
 * GET /api/v1/admin/stats/logins and /stats/qr (PROTOCOL.md § Operators):
 * answers checked against audit events seeded with fixed timestamps (windows
 * in 2025, far from what the app records while the tests run), the default
 * window read from the injected clock, and one real sign-in of each kind.
 */
describe.each(backends('sgtest-adminstats-'))('admin statistics (%s)', (name, need, backend) => {
  describeWith(need, `GET /api/v1/admin/stats/* on ${name}`, () => {
    let t: TestApp;
    let dispose: () => Promise<void>;
    let cast: Awaited<ReturnType<typeof adminCast>>;
    const clock = new FakeClock(Date.now());

    beforeAll(async () => {
      const made = await backend();
      dispose = made.dispose;
      t = await createTestApp({
        database: made.database,
        config: testConfig({ LOG_LEVEL: 'warn', RATE_LIMITS: 'off', DEMO_USER: 'off', ...made.env }),
        override: (b) => b.overrideProvider(Clock).useValue(clock),
      });
      cast = await adminCast(t);
    }, 60_000);

    afterAll(async () => {
      await t?.close();
      await dispose?.();
    });

    const logins = (query = '', auth = cast.admin.auth) =>
      request(t.url)
        .get(`/api/v1/admin/stats/logins${query && `?${query}`}`)
        .set(auth);
    const qrStats = (query = '', auth = cast.admin.auth) =>
      request(t.url)
        .get(`/api/v1/admin/stats/qr${query && `?${query}`}`)
        .set(auth);
    const windowQuery = (from: string, to: string) => `from=${from}&to=${to}`;

    async function seed(rows: Seed[]): Promise<void> {
      const params: unknown[] = [];
      const tuples = rows.map(
        (r) =>
          `(${[r.type, r.at, JSON.stringify(r.detail ?? {})].map((v) => `$${params.push(v)}`).join(', ')}, '198.51.100.7')`,
      );
      await db(t).query(`INSERT INTO audit_events (type, at, detail, ip) VALUES ${tuples.join(', ')}`, params);
    }

    /** The QR events of one session: `steps` are offsets in ms from `createdAt` (a step absent: never reached). */
    function qrSession(
      createdAt: string,
      steps: Partial<Record<'scanned' | 'confirmed' | 'consumed' | 'cancelled' | 'expired', number>>,
    ): Seed[] {
      const qr = qrKey();
      return [
        { type: 'qr.created', at: createdAt, detail: { qr } },
        ...Object.entries(steps).map(([step, offset]) => ({
          type: `qr.${step}`,
          at: plus(createdAt, offset),
          detail: { qr },
        })),
      ];
    }

    describe('GET /admin/stats/logins', () => {
      const FROM = '2025-03-01T00:00:00.000Z';
      const TO = '2025-03-02T00:00:00.000Z';

      beforeAll(async () => {
        const ok = (method: string, at: string, extra: object = {}) => ({
          type: 'auth.login_succeeded',
          at,
          detail: { method, kind: 'web', ...extra },
        });
        const failed = (method: string, at: string, extra: object = {}) => ({
          type: 'auth.login_failed',
          at,
          detail: { method, ...extra },
        });
        await seed([
          // In the window: 3 + 2 password, 4 qr, 1 WeChat, 1 DingTalk failure.
          ok('password', FROM), // `from` is inclusive
          ok('password', '2025-03-01T08:00:00.000Z'),
          ok('password', '2025-03-01T23:59:59.999Z'),
          failed('password', '2025-03-01T09:00:00.000Z', { reason: 'invalid_credentials' }),
          failed('password', '2025-03-01T09:30:00.000Z', { reason: 'disabled' }),
          ok('qr', '2025-03-01T10:00:00.000Z'),
          ok('qr', '2025-03-01T10:01:00.000Z'),
          ok('qr', '2025-03-01T10:02:00.000Z'),
          ok('qr', '2025-03-01T10:03:00.000Z'),
          ok('oauth:wechat', '2025-03-01T11:00:00.000Z'),
          failed('oauth:dingtalk', '2025-03-01T12:00:00.000Z', { mode: 'login', reason: 'oauth.code_invalid' }),
          // In the window, but not sign-ins: linking a provider while signed in, another type, no method.
          failed('oauth:wechat', '2025-03-01T13:00:00.000Z', { mode: 'link', reason: 'oauth.identity_conflict' }),
          { type: 'session.revoked', at: '2025-03-01T14:00:00.000Z', detail: { method: 'password' } },
          { type: 'auth.login_succeeded', at: '2025-03-01T15:00:00.000Z', detail: {} },
          // Outside: just before `from`, and at `to` (exclusive).
          ok('password', '2025-02-28T23:59:59.999Z'),
          ok('password', TO),
          failed('qr', TO),
        ]);
      });

      it('counts sign-ins per method and outcome over [from, to): the known answers of the seeded set', async () => {
        const res = await logins(windowQuery(FROM, TO)).expect(200);
        expect(res.body).toEqual({
          from: FROM,
          to: TO,
          byMethod: {
            password: { success: 3, failure: 2 },
            qr: { success: 4, failure: 0 },
            'oauth:wechat': { success: 1, failure: 0 },
            'oauth:dingtalk': { success: 0, failure: 1 },
          },
        });
      });

      it('answers a narrower window with just its events, and always lists password and qr', async () => {
        expect(
          (await logins(windowQuery('2025-03-01T09:00:00Z', '2025-03-01T10:02:00Z')).expect(200)).body.byMethod,
        ).toEqual({
          password: { success: 0, failure: 2 },
          qr: { success: 2, failure: 0 },
        });
        expect((await logins(windowQuery('2025-05-01T00:00:00Z', '2025-05-02T00:00:00Z')).expect(200)).body).toEqual({
          from: '2025-05-01T00:00:00.000Z',
          to: '2025-05-02T00:00:00.000Z',
          byMethod: { password: { success: 0, failure: 0 }, qr: { success: 0, failure: 0 } },
        });
      });

      it('takes `to` alone as the 24 hours before it', async () => {
        const res = await logins(`to=${TO}`).expect(200);
        expect(res.body.from).toBe(FROM);
        expect(res.body.byMethod.password).toEqual({ success: 3, failure: 2 });
      });
    });

    describe('GET /admin/stats/qr', () => {
      const FROM = '2025-04-01T00:00:00.000Z';
      const TO = '2025-04-01T06:00:00.000Z';

      beforeAll(async () => {
        const at = (minutes: number) => plus('2025-04-01T01:00:00.000Z', minutes * 60_000);
        await seed([
          // scan 1000, confirm 500, exchange 200
          ...qrSession(at(0), { scanned: 1_000, confirmed: 1_500, consumed: 1_700 }),
          // scan 3000, confirm 1500, exchange 400
          ...qrSession(at(10), { scanned: 3_000, confirmed: 4_500, consumed: 4_900 }),
          // scan 5000, confirm 2500, then expired before the exchange
          ...qrSession(at(20), { scanned: 5_000, confirmed: 7_500, expired: 120_000 }),
          // scan 7000, then declined on the phone
          ...qrSession(at(30), { scanned: 7_000, cancelled: 7_100 }),
          // never scanned
          ...qrSession(at(40), { expired: 120_000 }),
          // scanned "before" it was created (two instances' clocks apart): counted, but no step time
          ...qrSession(at(50), { scanned: -50 }),
          // created before the window, scanned in it: the scan counts, its time does not
          ...qrSession('2025-03-31T23:59:58.000Z', { scanned: 3_000 }),
          // entirely after the window
          ...qrSession(TO, { scanned: 10, confirmed: 20, consumed: 30 }),
        ]);
      });

      it('counts each step and gives the exact median step times per QR session', async () => {
        const res = await qrStats(windowQuery(FROM, TO)).expect(200);
        expect(res.body).toEqual({
          from: FROM,
          to: TO,
          created: 6,
          scanned: 6,
          confirmed: 3,
          consumed: 2,
          cancelled: 1,
          expired: 2,
          // scan: 1000, 3000, 5000, 7000; confirm: 500, 1500, 2500; exchange: 200, 400
          medianMs: { scan: 4_000, confirm: 1_500, exchange: 300 },
        });
      });

      it('answers zeros and null medians for a window without QR sessions', async () => {
        const res = await qrStats(windowQuery('2025-05-01T00:00:00Z', '2025-05-02T00:00:00Z')).expect(200);
        expect(res.body).toEqual({
          from: '2025-05-01T00:00:00.000Z',
          to: '2025-05-02T00:00:00.000Z',
          created: 0,
          scanned: 0,
          confirmed: 0,
          consumed: 0,
          cancelled: 0,
          expired: 0,
          medianMs: { scan: null, confirm: null, exchange: null },
        });
      });

      it('gives null for a step no session completed in the window', async () => {
        // 01:00–01:00:01.6: S1 created, scanned and confirmed; its exchange at +1.7 s is outside.
        const res = await qrStats(windowQuery('2025-04-01T01:00:00Z', '2025-04-01T01:00:01.600Z')).expect(200);
        expect(res.body).toMatchObject({
          created: 1,
          scanned: 1,
          confirmed: 1,
          consumed: 0,
          medianMs: { scan: 1_000, confirm: 500, exchange: null },
        });
      });
    });

    describe('default window', () => {
      it('is the 24 hours before now by the injected clock, from inclusive, to exclusive, on both routes', async () => {
        const now = clock.now();
        const iso = (ms: number) => new Date(ms).toISOString();
        await seed(
          [now - HOUR, now - DAY, now - DAY - 1, now, now + HOUR].map((at) => ({
            type: 'auth.login_succeeded',
            at: iso(at),
            detail: { method: 'oauth:alipay', kind: 'web' },
          })),
        );
        const res = await logins().expect(200);
        expect(res.body).toMatchObject({ from: iso(now - DAY), to: iso(now) });
        expect(res.body.byMethod['oauth:alipay']).toEqual({ success: 2, failure: 0 });
        expect((await qrStats().expect(200)).body).toMatchObject({ from: iso(now - DAY), to: iso(now) });
        // `from` alone ends now.
        expect((await logins(`from=${iso(now - 2 * HOUR)}`).expect(200)).body).toMatchObject({
          to: iso(now),
          byMethod: { 'oauth:alipay': { success: 1, failure: 0 } },
        });
      });
    });

    describe('what the app records', () => {
      it('counts a real failed password sign-in and a real QR sign-in, with its step times, in the default window', async () => {
        clock.advance(60_000); // past everything recorded so far, which the window (to exclusive) would otherwise leave out
        const [loginsBefore, qrBefore] = [(await logins().expect(200)).body, (await qrStats().expect(200)).body];
        const { login } = await createUser(t);
        const phone = await signInPhone(t, login);
        await request(t.url).post('/api/v1/auth/login').send({ login, password: 'not the password' }).expect(401);

        const qr = await createQr(t);
        clock.advance(1_200);
        await scan(t, phone, qr.id).expect(200);
        clock.advance(800);
        await confirm(t, phone, qr.id, qr.matchCode).expect(200);
        clock.advance(300);
        await exchange(t, qr.id, qr.pollToken).expect(200);
        // QR events are written without holding up the flow: wait for the last one.
        for (let i = 0; i < 100; i++) {
          const [row] = (await db(t).query(
            `SELECT count(*)::int AS n FROM audit_events WHERE type = 'qr.consumed' AND detail->>'qr' = $1`,
            [qr.id.slice(0, 8)],
          )) as Array<{ n: number }>;
          if (row!.n === 1) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        clock.advance(1);

        const loginsAfter = (await logins().expect(200)).body;
        expect(loginsAfter.byMethod.password).toEqual({
          success: loginsBefore.byMethod.password.success + 1, // the phone's sign-in
          failure: loginsBefore.byMethod.password.failure + 1,
        });
        expect(loginsAfter.byMethod.qr).toEqual({
          success: loginsBefore.byMethod.qr.success + 1,
          failure: loginsBefore.byMethod.qr.failure,
        });
        const qrAfter = (await qrStats().expect(200)).body;
        expect(qrAfter).toMatchObject({
          created: qrBefore.created + 1,
          scanned: qrBefore.scanned + 1,
          confirmed: qrBefore.confirmed + 1,
          consumed: qrBefore.consumed + 1,
          cancelled: qrBefore.cancelled,
          expired: qrBefore.expired,
          // The only QR session of the default window: its own step times.
          medianMs: { scan: 1_200, confirm: 800, exchange: 300 },
        });
      });
    });

    describe('bad windows', () => {
      it.each([
        ['from', 'from equal to to', windowQuery('2025-03-01T00:00:00Z', '2025-03-01T00:00:00Z')],
        ['from', 'from after to', windowQuery('2025-03-02T00:00:00Z', '2025-03-01T00:00:00Z')],
        ['from', 'from in the future, without to (to is now)', 'from=2999-01-01T00:00:00Z'],
        ['to', 'a window over 366 days', windowQuery('2024-01-01T00:00:00Z', '2025-01-01T00:00:00.001Z')],
        ['from', 'a malformed from', 'from=last-week'],
        ['to', 'a malformed to', 'to=2025-02-30T00:00:00Z'],
        ['from', 'a date without a time', 'from=2025-03-01'],
      ])('refuses %s (%s) with the 400 validation.failed envelope on both routes', async (path, _what, query) => {
        for (const res of [await logins(query), await qrStats(query)]) {
          expectError(res, 400, 'validation.failed');
          expect(res.body.details).toEqual([expect.objectContaining({ path, message: expect.any(String) })]);
        }
      });

      it('refuses unknown query fields, list fields included', async () => {
        for (const query of ['window=24h', 'limit=5', 'cursor=abc']) {
          for (const res of [await logins(query), await qrStats(query)]) {
            expectError(res, 400, 'validation.failed');
            expect(res.body.details).toEqual([
              expect.objectContaining({ message: expect.stringContaining(query.split('=')[0]!) }),
            ]);
          }
        }
      });

      it('accepts a window of exactly 366 days', async () => {
        await logins(windowQuery('2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z')).expect(200);
        await qrStats(windowQuery('2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z')).expect(200);
      });
    });

    describe('OpenAPI', () => {
      it('documents from/to with examples and an example answer on both routes', async () => {
        const doc = (await request(t.url).get('/api/docs-json').expect(200)).body;
        for (const [path, keys] of [
          ['logins', ['byMethod', 'from', 'to']],
          ['qr', ['cancelled', 'confirmed', 'consumed', 'created', 'expired', 'from', 'medianMs', 'scanned', 'to']],
        ] as const) {
          const op = doc.paths[`/api/v1/admin/stats/${path}`].get;
          const params = op.parameters as Array<{ name: string; required: boolean; schema: { example?: unknown } }>;
          expect(params.map((p) => [p.name, p.required, typeof p.schema.example])).toEqual([
            ['from', false, 'string'],
            ['to', false, 'string'],
          ]);
          expect(Object.keys(op.responses['200'].content['application/json'].schema.example).sort()).toEqual(keys);
          expect(Object.keys(op.responses).sort()).toEqual(['200', '400', '401', '403']);
        }
      });
    });

    describe('roles', () => {
      it('lets an auditor read both routes, refuses a plain user with 403 auth.forbidden and anyone anonymous with 401', async () => {
        await logins('', cast.auditor.auth).expect(200);
        await qrStats('', cast.auditor.auth).expect(200);
        for (const path of ['logins', 'qr']) {
          expectError(
            await request(t.url).get(`/api/v1/admin/stats/${path}`).set(cast.user.auth),
            403,
            'auth.forbidden',
          );
          expectError(await request(t.url).get(`/api/v1/admin/stats/${path}`), 401, 'auth.unauthenticated');
        }
      });
    });
  });
});
