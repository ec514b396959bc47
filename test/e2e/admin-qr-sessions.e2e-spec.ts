import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import request from 'supertest';
import { encodeCursor } from '../../src/admin/common/admin-list.js';
import { Clock } from '../../src/common/clock/clock.js';
import { notHung, sleep } from '../support/time-limits.js';
import { FIXTURE_DIR } from '../fixtures/geoip/fixtures.mjs';
import { expectError } from '../support/http.js';
import { db } from '../support/rows.js';
import { NO_LOGIN_LIMITS, testConfig } from '../support/test-config.js';
import { bearer, createUser } from '../support/accounts.js';
import { adminCast, expectDocumented } from '../support/admin.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { confirm, confirmedQr, createQr, exchange, scan, signInPhone, type Phone } from '../support/qr.js';
import { backends, describeWith } from '../support/services.js';

/**
 * Admin QR sessions API (PROTOCOL.md § Operators): recent QR sessions rebuilt
 * from the audit trail, with requester context and never a poll token, and
 * live counts by state, after real QR logins over HTTP.
 */

/** Real time, moved forward by hand (to step past the QR lifetime without waiting for it). */
class ShiftableClock extends Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

const CHROME_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const TTL_SECONDS = 120; // QR_TTL_SECONDS's default
const ITEM_KEYS = [
  'cancelReason',
  'cancelledAt',
  'confirmedAt',
  'consumedAt',
  'createdAt',
  'exchange',
  'expiredAt',
  'expiresAt',
  'id',
  'requester',
  'scannedAt',
  'scanner',
  'status',
];
/** The routes of this resource in the OpenAPI document: path, method, query fields. */
const ROUTES: Array<[string, string, string[]]> = [
  ['/api/v1/admin/qr-sessions', 'get', ['status', 'limit', 'cursor']],
  ['/api/v1/admin/qr-sessions/counts', 'get', []],
];

interface QrItem {
  id: string;
  status: string;
  createdAt: string;
  expiresAt: string;
  scannedAt: string | null;
  confirmedAt: string | null;
  consumedAt: string | null;
  cancelledAt: string | null;
  expiredAt: string | null;
  cancelReason: string | null;
  requester: Record<string, unknown>;
  scanner: Record<string, unknown> | null;
  exchange: Record<string, unknown> | null;
}

type Created = Awaited<ReturnType<typeof createQr>>;

describe.each(backends('adm-qr'))('admin QR sessions API on %s', (_name, need, backend) => {
  describeWith(need, 'GET /admin/qr-sessions, GET /admin/qr-sessions/counts', () => {
    let t: TestApp;
    let dispose: () => Promise<void>;
    let cast: Awaited<ReturnType<typeof adminCast>>;
    const clock = new ShiftableClock();
    let userId: string;
    let phone: Phone;
    /** One QR login in each state, created in this order. */
    const qr = {} as Record<'consumed' | 'cancelled' | 'confirmed' | 'scanned' | 'pending', Created>;
    let webSessionId: string;
    let webAccessToken: string;

    const prefix = (created: Created) => created.id.slice(0, 8);
    const list = (token: string, query = '') =>
      request(t.url).get(`/api/v1/admin/qr-sessions${query}`).set(bearer(token));
    const counts = (token: string, query = '') =>
      request(t.url).get(`/api/v1/admin/qr-sessions/counts${query}`).set(bearer(token));

    /** Resolves once `probe` answers something `ok` accepts (QR audit events are written just after each step). */
    async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
      const started = Date.now();
      for (;;) {
        const value = await probe();
        if (ok(value)) return value;
        if (Date.now() - started > timeoutMs)
          throw new Error(`not reached within ${timeoutMs} ms: ${JSON.stringify(value)}`);
        await sleep(25);
      }
    }

    const eventTypes = async (created: Created) =>
      (
        (await db(t).query(`SELECT type FROM audit_events WHERE type LIKE 'qr.%' AND detail->>'qr' = $1 ORDER BY at`, [
          prefix(created),
        ])) as Array<{ type: string }>
      ).map((r) => r.type);

    beforeAll(async () => {
      const b = await backend();
      dispose = b.dispose;
      t = await createTestApp({
        database: b.database,
        // The synthetic GeoIP city database: 203.0.113.0/24 is "Shanghai, CN", 192.0.2.0/25 "Paris, FR".
        config: testConfig({
          LOG_LEVEL: 'warn',
          RATE_LIMITS: 'off',
          DEMO_USER: 'off',
          GEOIP_CITY_DB: join(FIXTURE_DIR, 'GeoLite2-City-Test.mmdb'),
          ...NO_LOGIN_LIMITS,
          ...b.env,
        }),
        override: (builder) => builder.overrideProvider(Clock).useValue(clock),
      });
      cast = await adminCast(t);
      const { user, login } = await createUser(t);
      userId = user.id;
      phone = await signInPhone(t, login);

      qr.consumed = await createQr(t, {}, CHROME_WINDOWS);
      await scan(t, phone, qr.consumed.id).expect(200);
      await confirm(t, phone, qr.consumed.id, qr.consumed.matchCode).expect(200);
      webAccessToken = (await exchange(t, qr.consumed.id, qr.consumed.pollToken).expect(200)).body.accessToken;

      qr.cancelled = await createQr(t, {}, FIREFOX_LINUX);
      await scan(t, phone, qr.cancelled.id).expect(200);
      await request(t.url)
        .post(`/api/v1/qr-sessions/${qr.cancelled.id}/cancel`)
        .set(bearer(phone.accessToken))
        .send({})
        .expect(200);

      qr.confirmed = await confirmedQr(t, phone);
      qr.scanned = await createQr(t);
      await scan(t, phone, qr.scanned.id).expect(200);
      qr.pending = await createQr(t, {}, SAFARI_IPHONE);

      const rows = (await db(t).query(`SELECT id FROM sessions WHERE user_id = $1 AND created_via = 'qr'`, [
        userId,
      ])) as Array<{ id: string }>;
      webSessionId = rows[0]!.id;
      await eventually(
        () => eventTypes(qr.consumed),
        (types) => types.includes('qr.consumed'),
      );
      await eventually(
        () => eventTypes(qr.cancelled),
        (types) => types.includes('qr.cancelled'),
      );
      await eventually(
        () => eventTypes(qr.confirmed),
        (types) => types.includes('qr.confirmed'),
      );
      await eventually(
        () => eventTypes(qr.scanned),
        (types) => types.includes('qr.scanned'),
      );
      await eventually(
        () => eventTypes(qr.pending),
        (types) => types.includes('qr.created'),
      );
    });

    afterAll(async () => {
      await t?.close();
      await dispose?.();
    });

    it('documents every route in the OpenAPI document with an example answer and its query fields', async () => {
      await expectDocumented(t, ROUTES);
    });

    it('lists the QR logins newest first, each with its latest status, its step times, the requester’s context and the scanner', async () => {
      const res = await list(cast.admin.accessToken).expect(200);
      expect(Object.keys(res.body).sort()).toEqual(['items', 'nextCursor']);
      expect(res.body.nextCursor).toBeNull();
      const items = res.body.items as QrItem[];
      expect(items.map((i) => [i.id, i.status])).toEqual([
        [prefix(qr.pending), 'pending'],
        [prefix(qr.scanned), 'scanned'],
        [prefix(qr.confirmed), 'confirmed'],
        [prefix(qr.cancelled), 'cancelled'],
        [prefix(qr.consumed), 'consumed'],
      ]);
      for (const item of items) expect(Object.keys(item).sort()).toEqual(ITEM_KEYS);

      const consumed = items[4]!;
      expect(consumed).toEqual({
        id: prefix(qr.consumed),
        status: 'consumed',
        createdAt: expect.any(String),
        expiresAt: new Date(Date.parse(consumed.createdAt) + TTL_SECONDS * 1000).toISOString(),
        scannedAt: expect.any(String),
        confirmedAt: expect.any(String),
        consumedAt: expect.any(String),
        cancelledAt: null,
        expiredAt: null,
        cancelReason: null,
        requester: {
          ip: '127.0.0.1',
          userAgent: CHROME_WINDOWS,
          browser: 'Chrome 142',
          os: 'Windows 10',
          deviceType: 'desktop',
          location: null,
        },
        scanner: { userId, sessionId: phone.sessionId, ip: '127.0.0.1', location: null },
        exchange: { sessionId: webSessionId, ip: '127.0.0.1' },
      });
      const steps = [consumed.createdAt, consumed.scannedAt!, consumed.confirmedAt!, consumed.consumedAt!].map(
        Date.parse,
      );
      expect([...steps].sort((a, b) => a - b)).toEqual(steps);
      expect(
        Math.abs(Date.parse(consumed.createdAt) - Date.parse(qr.consumed.expiresAt) + TTL_SECONDS * 1000),
      ).toBeLessThan(notHung(2_000));

      expect(items[3]).toMatchObject({
        status: 'cancelled',
        cancelReason: 'declined',
        cancelledAt: expect.any(String),
        confirmedAt: null,
        consumedAt: null,
        requester: { browser: 'Firefox 133', os: 'Linux', deviceType: 'desktop' },
        scanner: { userId, sessionId: phone.sessionId },
        exchange: null,
      });
      expect(items[2]).toMatchObject({
        status: 'confirmed',
        confirmedAt: expect.any(String),
        consumedAt: null,
        exchange: null,
        scanner: { userId },
      });
      expect(items[1]).toMatchObject({
        status: 'scanned',
        scannedAt: expect.any(String),
        confirmedAt: null,
        scanner: { userId },
      });
      expect(items[0]).toMatchObject({
        status: 'pending',
        scannedAt: null,
        scanner: null,
        exchange: null,
        requester: { browser: 'Mobile Safari 17', os: 'iOS 17.4', deviceType: 'mobile' },
      });
    });

    it('locates the requester and the scanner from their IPs (as the audit events hold them) with the GeoIP database', async () => {
      // A QRLJacking case: the code was asked for in one city and approved in another.
      await db(t).query(`UPDATE audit_events SET ip = '192.0.2.10' WHERE type = 'qr.created' AND detail->>'qr' = $1`, [
        prefix(qr.cancelled),
      ]);
      await db(t).query(
        `UPDATE audit_events SET ip = '203.0.113.24' WHERE type = 'qr.scanned' AND detail->>'qr' = $1`,
        [prefix(qr.cancelled)],
      );
      try {
        const item = ((await list(cast.admin.accessToken, '?status=cancelled').expect(200)).body.items as QrItem[])[0]!;
        expect(item.requester).toMatchObject({ ip: '192.0.2.10', location: 'Paris, FR' });
        expect(item.scanner).toMatchObject({ ip: '203.0.113.24', location: 'Shanghai, CN' });
      } finally {
        await db(t).query(
          `UPDATE audit_events SET ip = '127.0.0.1' WHERE type IN ('qr.created', 'qr.scanned') AND detail->>'qr' = $1`,
          [prefix(qr.cancelled)],
        );
      }
    });

    it('never shows a poll token, a whole QR id or a token of the web session it became', async () => {
      const text =
        (await list(cast.admin.accessToken).expect(200)).text + (await counts(cast.admin.accessToken).expect(200)).text;
      for (const created of Object.values(qr)) {
        expect(text).not.toContain(created.pollToken);
        expect(text).not.toContain(created.id);
      }
      expect(text).not.toContain(webAccessToken);
      expect(text).not.toMatch(/poll|eyJ[A-Za-z0-9_-]{10,}\./i);
    });

    it('filters by status', async () => {
      for (const status of ['pending', 'scanned', 'confirmed', 'cancelled', 'consumed'] as const) {
        const res = await list(cast.admin.accessToken, `?status=${status}`).expect(200);
        expect(res.body.items.map((i: QrItem) => [i.id, i.status])).toEqual([[prefix(qr[status]), status]]);
      }
      expect((await list(cast.admin.accessToken, '?status=expired').expect(200)).body.items).toEqual([]);
    });

    it('pages with limit and cursor: every session once, newest first', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const res = await list(cast.auditor.accessToken, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.items.map((i: QrItem) => i.id));
        cursor = res.body.nextCursor ?? undefined;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual([qr.pending, qr.scanned, qr.confirmed, qr.cancelled, qr.consumed].map(prefix));
    });

    it('counts the sessions created within the QR lifetime by their status now, matching the list', async () => {
      const before = clock.now();
      const res = await counts(cast.admin.accessToken).expect(200);
      expect(res.body).toEqual({
        from: expect.any(String),
        to: expect.any(String),
        windowSeconds: TTL_SECONDS,
        total: 5,
        byStatus: { pending: 1, scanned: 1, confirmed: 1, consumed: 1, cancelled: 1, expired: 0 },
      });
      expect(Date.parse(res.body.to) - Date.parse(res.body.from)).toBe(TTL_SECONDS * 1000);
      expect(Date.parse(res.body.to)).toBeGreaterThanOrEqual(before);
      const tally: Record<string, number> = {};
      for (const item of (await list(cast.admin.accessToken).expect(200)).body.items as QrItem[])
        tally[item.status] = (tally[item.status] ?? 0) + 1;
      expect(Object.fromEntries(Object.entries(res.body.byStatus).filter(([, n]) => n !== 0))).toEqual(tally);
      await counts(cast.auditor.accessToken).expect(200);
    });

    it('malformed filters and unknown fields are 400 validation.failed', async () => {
      const cases: Array<[string, string]> = [
        ['?status=done', 'status'],
        ['?status=', 'status'],
        ['?limit=0', 'limit'],
        ['?limit=1000', 'limit'],
        ['?cursor=%24%24', 'cursor'],
        [
          `?cursor=${encodeCursor('sessions:-createdAt', ['2026-01-01 00:00:00+00', '00000000-0000-4000-8000-000000000000'])}`,
          'cursor',
        ],
        [
          `?cursor=${encodeCursor('qr-sessions:-createdAt', ['2026-02-31 00:00:00+00', '00000000-0000-4000-8000-000000000000'])}`,
          'cursor',
        ],
        ['?userId=x', ''],
        ['?pollToken=x', ''],
      ];
      for (const [query, path] of cases) {
        const res = await list(cast.admin.accessToken, query);
        expectError(res, 400, 'validation.failed');
        if (path) expect(res.body.details.map((d: { path: string }) => d.path)).toContain(path);
      }
      expectError(await counts(cast.admin.accessToken, '?status=pending'), 400, 'validation.failed');
      expectError(await counts(cast.admin.accessToken, '?limit=5'), 400, 'validation.failed');
    });

    it('roles: an auditor reads both, a user-role caller is 403 auth.forbidden, anonymous 401 auth.unauthenticated', async () => {
      await list(cast.auditor.accessToken).expect(200);
      await counts(cast.auditor.accessToken).expect(200);
      expectError(await list(cast.user.accessToken), 403, 'auth.forbidden');
      expectError(await counts(cast.user.accessToken), 403, 'auth.forbidden');
      expectError(await list(phone.accessToken), 403, 'auth.forbidden');
      expectError(await request(t.url).get('/api/v1/admin/qr-sessions'), 401, 'auth.unauthenticated');
      expectError(await request(t.url).get('/api/v1/admin/qr-sessions/counts'), 401, 'auth.unauthenticated');
    });

    // Last: moves the clock past the QR lifetime.
    it('past the QR lifetime the unfinished ones read expired (then carry their qr.expired time), finished ones keep their status, and the live counts are empty', async () => {
      clock.offsetMs += (TTL_SECONDS + 5) * 1000;
      const now = await list(cast.admin.accessToken).expect(200);
      expect((now.body.items as QrItem[]).map((i) => i.status)).toEqual([
        'expired',
        'expired',
        'expired',
        'cancelled',
        'consumed',
      ]);

      // The sweeper moves them to `expired` in the store, and the qr.expired events follow.
      const swept = await eventually(
        async () => (await list(cast.admin.accessToken, '?status=expired').expect(200)).body.items as QrItem[],
        (items) => items.length === 3 && items.every((i) => i.expiredAt !== null),
      );
      expect(swept.map((i) => i.id)).toEqual([qr.pending, qr.scanned, qr.confirmed].map(prefix));
      expect(swept.every((i) => Date.parse(i.expiredAt!) >= Date.parse(i.expiresAt))).toBe(true);
      expect(swept.find((i) => i.id === prefix(qr.scanned))).toMatchObject({
        scanner: { userId },
        scannedAt: expect.any(String),
      });

      const res = await counts(cast.admin.accessToken).expect(200);
      expect(res.body).toMatchObject({
        total: 0,
        byStatus: { pending: 0, scanned: 0, confirmed: 0, consumed: 0, cancelled: 0, expired: 0 },
      });

      // A new one is live again.
      const fresh = await createQr(t);
      await eventually(
        () => eventTypes(fresh),
        (types) => types.includes('qr.created'),
      );
      expect((await counts(cast.admin.accessToken).expect(200)).body).toMatchObject({
        total: 1,
        byStatus: { pending: 1 },
      });
      expect((await list(cast.admin.accessToken, '?limit=1').expect(200)).body.items[0]).toMatchObject({
        id: prefix(fresh),
        status: 'pending',
      });
    });
  });
});
