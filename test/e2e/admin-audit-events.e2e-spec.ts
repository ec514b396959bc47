import type { AuditEventView } from '../../src/admin/audit-events/admin-audit-events.schemas.js';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { get as httpGet } from 'node:http';
import request from 'supertest';
import { AuditEventDirectory } from '../../src/audit/audit-event.directory.js';
import { AUDIT_EXPORT_BATCH } from '../../src/admin/audit-events/admin-audit-events.service.js';
import { encodeCursor } from '../../src/admin/common/admin-list.js';
import { expectError } from '../support/http.js';
import { db } from '../support/rows.js';
import { adminCast } from '../support/admin.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { backends, describeWith } from '../support/services.js';
import { testConfig } from '../support/test-config.js';

const ITEM_KEYS = ['actorId', 'at', 'detail', 'id', 'ip', 'sessionId', 'type', 'userAgent', 'userId'];
/** Rows per export query in this suite (the default is 1,000): a few hundred rows cross several batches. */
const BATCH = 100;
const NDJSON = 'application/x-ndjson';

interface Seed {
  type?: string;
  at: string;
  actorId?: string | null;
  userId?: string | null;
  sessionId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  detail?: Record<string, unknown>;
}

type Item = AuditEventView;

/**
 * GET /api/v1/admin/audit-events (PROTOCOL.md § Operators): filters, newest
 * first, keyset pages stable under inserts, the NDJSON export. Events are
 * seeded straight into the table with fixed timestamps and an address of
 * their own (documentation ranges), so what the app itself records while the
 * tests run never mixes in.
 */
describe.each(backends('sgtest-adminaudit-'))('admin audit events (%s)', (name, need, backend) => {
  describeWith(need, `GET /api/v1/admin/audit-events on ${name}`, () => {
    let t: TestApp;
    let dispose: () => Promise<void>;
    let cast: Awaited<ReturnType<typeof adminCast>>;
    let ipCounter = 0;
    /** An address no other test (and no live request) uses. */
    const freshIp = () => `2001:db8::a:${(++ipCounter).toString(16)}`;

    beforeAll(async () => {
      const made = await backend();
      dispose = made.dispose;
      t = await createTestApp({
        database: made.database,
        config: testConfig({ LOG_LEVEL: 'warn', RATE_LIMITS: 'off', DEMO_USER: 'off', ...made.env }),
        override: (b) => b.overrideProvider(AUDIT_EXPORT_BATCH).useValue(BATCH),
      });
      cast = await adminCast(t);
    }, 60_000);

    afterAll(async () => {
      await t?.close();
      await dispose?.();
    });

    const list = (query: string, auth = cast.admin.auth) =>
      request(t.url).get(`/api/v1/admin/audit-events?${query}`).set(auth);
    const idsOf = (res: request.Response) => (res.body.items as Item[]).map((i) => i.id);

    /** Inserts `rows` as given; their ids, in the same order. */
    async function seed(rows: Seed[]): Promise<string[]> {
      const params: unknown[] = [];
      const tuples = rows.map((r) => {
        const values = [
          r.type ?? 'test.seeded',
          r.at,
          r.actorId ?? null,
          r.userId ?? null,
          r.sessionId ?? null,
          r.ip ?? null,
          r.userAgent ?? null,
          JSON.stringify(r.detail ?? {}),
        ];
        return `(${values.map((v) => `$${params.push(v)}`).join(', ')})`;
      });
      const inserted = (await db(t).query(
        `INSERT INTO audit_events (type, at, actor_id, user_id, session_id, ip, user_agent, detail) VALUES ${tuples.join(', ')} RETURNING id`,
        params,
      )) as Array<{ id: string }>;
      return inserted.map((r) => r.id);
    }

    /**
     * `count` events for `ip`, three to a timestamp, with microsecond times
     * (`.xxx001` apart): ties are broken by id and no sub-millisecond
     * precision may be lost between pages. `padding` bytes of detail each.
     */
    async function seedSeries(ip: string, count: number, padding = 0): Promise<void> {
      await db(t).query(
        `INSERT INTO audit_events (type, at, ip, detail)
         SELECT 'test.series', '2024-06-01T12:00:00Z'::timestamptz - ((g / 3) * 1001) * interval '1 microsecond', $1,
                jsonb_build_object('n', g, 'pad', repeat('x', $3::int))
           FROM generate_series(1, $2::int) AS g`,
        [ip, count, padding],
      );
    }

    /** The ids of `where` in the list's order, read straight from the table. */
    async function expectedIds(where: string, params: unknown[]): Promise<string[]> {
      const rows = (await db(t).query(
        `SELECT id FROM audit_events WHERE ${where} ORDER BY at DESC, id DESC`,
        params,
      )) as Array<{ id: string }>;
      return rows.map((r) => r.id);
    }

    /** Every page of `query`, following nextCursor; `between` runs between pages. */
    async function allPages(query: string, between?: () => Promise<void>): Promise<{ ids: string[]; pages: number }> {
      const ids: string[] = [];
      let cursor: string | null = null;
      for (let pages = 1; pages < 500; pages++) {
        const res: request.Response = await list(`${query}${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
        ids.push(...idsOf(res));
        cursor = res.body.nextCursor;
        if (!cursor) return { ids, pages };
        await between?.();
      }
      throw new Error('too many pages');
    }

    /** The NDJSON export of `query`: the response and its lines, each parsed. */
    async function exportOf(query: string, accept = NDJSON) {
      const res = await fetch(`${t.url}/api/v1/admin/audit-events?${query}`, {
        headers: { ...cast.admin.auth, Accept: accept },
      });
      const text = await res.text();
      return { res, text, lines: text === '' ? [] : text.split('\n') };
    }

    describe('list', () => {
      it('answers newest first, with exactly the protocol’s item shape', async () => {
        const ip = freshIp();
        const [actor, user, session] = [randomUUID(), randomUUID(), randomUUID()];
        const [middle, oldest, newest] = await seed([
          {
            type: 'user.updated',
            at: '2024-01-02T00:00:00.000Z',
            actorId: actor,
            userId: user,
            sessionId: session,
            ip,
            userAgent: 'curl/8.5',
            detail: { fields: ['displayName'] },
          },
          {
            type: 'auth.login_failed',
            at: '2024-01-01T00:00:00.000Z',
            ip,
            detail: { method: 'password', reason: 'invalid_credentials' },
          },
          { type: 'auth.logout', at: '2024-01-03T00:00:00.000Z', ip },
        ]);
        const res = await list(`ip=${ip}`).expect(200);
        expect(Object.keys(res.body).sort()).toEqual(['items', 'nextCursor']);
        expect(idsOf(res)).toEqual([newest, middle, oldest]);
        expect(res.body.nextCursor).toBeNull();
        for (const item of res.body.items as Item[]) expect(Object.keys(item).sort()).toEqual(ITEM_KEYS);
        expect(res.body.items[1]).toEqual({
          id: middle,
          type: 'user.updated',
          at: '2024-01-02T00:00:00.000Z',
          actorId: actor,
          userId: user,
          sessionId: session,
          ip,
          userAgent: 'curl/8.5',
          detail: { fields: ['displayName'] },
        });
        expect(res.body.items[2]).toMatchObject({
          actorId: null,
          userId: null,
          sessionId: null,
          userAgent: null,
          detail: { method: 'password' },
        });
      });

      it('shows what the app itself records: the admin’s own sign-in is listed under their id', async () => {
        const res = await list(`userId=${cast.admin.user.id}&type=auth.login_succeeded`).expect(200);
        expect(res.body.items).toContainEqual(
          expect.objectContaining({
            type: 'auth.login_succeeded',
            userId: cast.admin.user.id,
            actorId: cast.admin.user.id,
            sessionId: cast.admin.sessionId,
            detail: expect.objectContaining({ method: 'password' }),
          }),
        );
      });

      it('filters by userId as the user acted upon or as the actor, each event once, across pages too', async () => {
        const [me, other] = [randomUUID(), randomUUID()];
        const [actedOn, acting, both] = await seed([
          { at: '2024-02-01T00:00:01Z', actorId: other, userId: me },
          { at: '2024-02-01T00:00:02Z', actorId: me, userId: other },
          { at: '2024-02-01T00:00:03Z', actorId: me, userId: me },
        ]);
        await seed([
          { at: '2024-02-01T00:00:04Z', actorId: other, userId: other },
          { at: '2024-02-01T00:00:05Z', sessionId: me }, // a session id is not a user
        ]);
        expect(idsOf(await list(`userId=${me}`).expect(200))).toEqual([both, acting, actedOn]);
        expect((await allPages(`userId=${me}&limit=1`)).ids).toEqual([both, acting, actedOn]);
        expect(idsOf(await list(`userId=${me.toUpperCase()}`).expect(200))).toEqual([both, acting, actedOn]);
        expect(idsOf(await list(`userId=${randomUUID()}`).expect(200))).toEqual([]);
      });

      it('filters by exact type and exact ip, and combines filters', async () => {
        const ip = freshIp();
        const neighbour = `${ip}0`; // the same text and more: no prefix match
        const [failed1, failed2, succeeded] = await seed([
          { type: 'auth.login_failed', at: '2024-03-01T00:00:01Z', ip },
          { type: 'auth.login_failed', at: '2024-03-01T00:00:02Z', ip },
          { type: 'auth.login_succeeded', at: '2024-03-01T00:00:03Z', ip },
        ]);
        const [elsewhere] = await seed([{ type: 'auth.login_failed', at: '2024-03-01T00:00:04Z', ip: neighbour }]);
        expect(idsOf(await list(`ip=${ip}`).expect(200))).toEqual([succeeded, failed2, failed1]);
        expect(idsOf(await list(`ip=${ip}&type=auth.login_failed`).expect(200))).toEqual([failed2, failed1]);
        expect(idsOf(await list(`ip=${ip}&type=auth.login`).expect(200))).toEqual([]);
        expect(idsOf(await list(`ip=${neighbour}`).expect(200))).toEqual([elsewhere]);
        // An IPv4 client recorded by a dual-stack listener (IPv4-mapped IPv6) is the same address; IPv6 in capitals too.
        const v4 = `192.0.2.${(++ipCounter % 250) + 1}`;
        const [plain, mapped] = await seed([
          { type: 'auth.login_failed', at: '2024-03-01T00:00:05Z', ip: v4 },
          { type: 'auth.login_failed', at: '2024-03-01T00:00:06Z', ip: `::ffff:${v4}` },
        ]);
        expect(idsOf(await list(`ip=${v4}`).expect(200))).toEqual([mapped, plain]);
        expect(idsOf(await list(`ip=${ip.toUpperCase()}`).expect(200))).toEqual([succeeded, failed2, failed1]);
      });

      it('filters by time: from is inclusive, to exclusive', async () => {
        const ip = freshIp();
        const [t0, t1, t2] = await seed([
          { at: '2024-04-01T10:00:00.000Z', ip },
          { at: '2024-04-01T11:00:00.000Z', ip },
          { at: '2024-04-01T12:00:00.000Z', ip },
        ]);
        expect(idsOf(await list(`ip=${ip}&from=2024-04-01T11:00:00Z&to=2024-04-01T12:00:00Z`).expect(200))).toEqual([
          t1,
        ]);
        expect(idsOf(await list(`ip=${ip}&from=2024-04-01T11:00:00Z`).expect(200))).toEqual([t2, t1]);
        expect(idsOf(await list(`ip=${ip}&to=2024-04-01T11:00:00Z`).expect(200))).toEqual([t0]);
        // Offsets other than Z are the same instants.
        expect(
          idsOf(await list(`ip=${ip}&from=${encodeURIComponent('2024-04-01T19:00:00+08:00')}`).expect(200)),
        ).toEqual([t2, t1]);
      });

      it('pages with a cursor, newest first, with no duplicate and no gap while new events are written between pages (ties and microseconds kept)', async () => {
        const ip = freshIp();
        await seedSeries(ip, 250);
        const expected = await expectedIds('ip = $1', [ip]);
        expect(expected).toHaveLength(250);
        let written = 0;
        const { ids, pages } = await allPages(`ip=${ip}&limit=40`, async () => {
          // Newer than everything listed so far: now, and just after the newest seeded row.
          await seed([
            { at: new Date().toISOString(), ip },
            { at: '2024-06-01T12:00:00.000500Z', ip },
          ]);
          written += 2;
        });
        expect(pages).toBe(7);
        expect(written).toBe(12);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids).toEqual(expected);
        // And the events written meanwhile are there for the next reader, on top.
        const fresh = await list(`ip=${ip}&limit=12`).expect(200);
        expect(idsOf(fresh).some((id) => expected.includes(id))).toBe(false);
      });

      it('takes limit from 1 to 200, 50 by default', async () => {
        const ip = freshIp();
        await seedSeries(ip, 210);
        const expected = await expectedIds('ip = $1', [ip]);
        const byDefault = await list(`ip=${ip}`).expect(200);
        expect(idsOf(byDefault)).toEqual(expected.slice(0, 50));
        expect(byDefault.body.nextCursor).toEqual(expect.any(String));
        expect(idsOf(await list(`ip=${ip}&limit=1`).expect(200))).toEqual(expected.slice(0, 1));
        expect(idsOf(await list(`ip=${ip}&limit=200`).expect(200))).toEqual(expected.slice(0, 200));
        for (const limit of ['0', '201', '-1', '2.5', 'ten', '']) {
          const res = await list(`ip=${ip}&limit=${limit}`);
          expectError(res, 400, 'validation.failed');
          expect(res.body.details).toEqual([expect.objectContaining({ path: 'limit' })]);
        }
      });
    });

    describe('malformed queries', () => {
      const uuid = '0b6f3c1e-2d4a-4f6b-8e9c-1a2b3c4d5e6f';
      it.each([
        ['userId', 'userId=not-a-uuid'],
        ['userId', 'userId=0b6f3c1e2d4a4f6b8e9c1a2b3c4d5e6f0'],
        ['type', 'type=DROP%20TABLE'],
        ['type', 'type=auth'],
        ['type', `type=${'a.'.repeat(40)}b`],
        ['ip', 'ip=999.1.1.1'],
        ['ip', 'ip=localhost'],
        ['from', 'from=yesterday'],
        ['from', 'from=2024-01-01'],
        ['to', 'to=2024-13-01T00:00:00Z'],
        ['from', 'from=2024-02-01T00:00:00Z&to=2024-01-01T00:00:00Z'],
        ['from', 'from=2024-01-01T00:00:00Z&to=2024-01-01T00:00:00Z'],
        ['type', 'type=auth.login_failed&type=auth.logout'],
        ['cursor', 'cursor=not%20a%20cursor!'],
        ['cursor', `cursor=${Buffer.from('{"not":"ours"}').toString('base64url')}`],
        ['cursor', `cursor=${Buffer.from('garbage').toString('base64url')}`],
        // The users list's cursor, or one of ours that was tampered with.
        ['cursor', `cursor=${encodeCursor('-createdAt', ['2026-01-01T00:00:00.000000Z', uuid])}`],
        ['cursor', `cursor=${encodeCursor('-at', ['2026-02-31T00:00:00.000000Z', uuid])}`],
        ['cursor', `cursor=${encodeCursor('-at', ['2026-01-01T00:00:00Z', uuid])}`],
        ['cursor', `cursor=${encodeCursor('-at', ['2026-01-01T00:00:00.000000Z', 'x'])}`],
        ['cursor', `cursor=${encodeCursor('-at', ['2026-01-01T00:00:00.000000Z'])}`],
      ])('refuses a malformed %s (%s) with the 400 validation.failed envelope naming it', async (path, query) => {
        const res = await list(query);
        expectError(res, 400, 'validation.failed');
        expect(res.body.details).toEqual(
          expect.arrayContaining([expect.objectContaining({ path, message: expect.any(String) })]),
        );
      });

      it('refuses unknown query fields with validation.failed naming the field', async () => {
        for (const query of ['actor=x', 'sort=at', 'userid=0b6f3c1e-2d4a-4f6b-8e9c-1a2b3c4d5e6f']) {
          const res = await list(query);
          expectError(res, 400, 'validation.failed');
          expect(res.body.details).toEqual([
            expect.objectContaining({ message: expect.stringContaining(query.split('=')[0]!) }),
          ]);
        }
      });

      it('answers a malformed export request with the JSON envelope, not a stream', async () => {
        const { res, text } = await exportOf('ip=nope');
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        expect(JSON.parse(text)).toMatchObject({
          code: 'validation.failed',
          details: [expect.objectContaining({ path: 'ip' })],
        });
      });
    });

    describe('roles', () => {
      it('lets an auditor read, refuses a plain user with 403 auth.forbidden and anyone anonymous with 401, JSON or NDJSON', async () => {
        const ip = freshIp();
        const [id] = await seed([{ at: '2024-05-01T00:00:00Z', ip }]);
        expect(idsOf(await list(`ip=${ip}`, cast.auditor.auth).expect(200))).toEqual([id]);
        expectError(await list(`ip=${ip}`, cast.user.auth), 403, 'auth.forbidden');
        expectError(await request(t.url).get(`/api/v1/admin/audit-events?ip=${ip}`), 401, 'auth.unauthenticated');
        expectError(await list(`ip=${ip}`, cast.user.auth).set('Accept', NDJSON), 403, 'auth.forbidden');
        expectError(
          await request(t.url).get(`/api/v1/admin/audit-events?ip=${ip}`).set('Accept', NDJSON),
          401,
          'auth.unauthenticated',
        );
        // Refused before validation: a plain user learns nothing about the query either.
        expectError(await list('bogus=1', cast.user.auth), 403, 'auth.forbidden');
      });
    });

    describe('OpenAPI', () => {
      it('documents every filter with an example, and both answers (JSON page, NDJSON stream) with examples', async () => {
        const doc = (await request(t.url).get('/api/docs-json').expect(200)).body;
        const op = doc.paths['/api/v1/admin/audit-events'].get;
        const params = Object.fromEntries(
          (op.parameters as Array<{ name: string; in: string; example?: unknown; schema?: { example?: unknown } }>).map(
            (p) => [p.name, p],
          ),
        );
        expect(Object.keys(params).sort()).toEqual(['cursor', 'from', 'ip', 'limit', 'to', 'type', 'userId']);
        for (const name of ['userId', 'type', 'ip', 'from', 'to'])
          expect(params[name]!.schema?.example ?? params[name]!.example).toEqual(expect.any(String));
        const content = op.responses['200'].content;
        expect(Object.keys(content['application/json'].example).sort()).toEqual(['items', 'nextCursor']);
        expect(Object.keys(content['application/json'].example.items[0]).sort()).toEqual(ITEM_KEYS);
        expect(content[NDJSON].example).toMatch(/^\{.*\}\n\{.*\}\n$/);
        expect(Object.keys(op.responses).sort()).toEqual(['200', '400', '401', '403']);
      });
    });

    describe('NDJSON export', () => {
      it('streams the whole filtered set as application/x-ndjson, one parseable object per line, newest first, limit and cursor ignored', async () => {
        const ip = freshIp();
        await seedSeries(ip, 345);
        await seed([{ at: '2024-07-01T00:00:00Z', ip, type: 'auth.logout' }]); // of another type: filtered out
        const expected = await expectedIds(`ip = $1 AND type = 'test.series'`, [ip]);
        const firstPage = await list(`ip=${ip}&type=test.series&limit=5`).expect(200);

        const { res, text, lines } = await exportOf(
          `ip=${ip}&type=test.series&limit=5&cursor=${firstPage.body.nextCursor}`,
        );
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe(NDJSON);
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect(text.endsWith('\n')).toBe(true);
        lines.pop(); // after the last newline
        const items = lines.map((line) => JSON.parse(line) as Item);
        expect(items).toHaveLength(345);
        expect(items.map((i) => i.id)).toEqual(expected);
        for (const item of items) expect(Object.keys(item).sort()).toEqual(ITEM_KEYS);
        expect(items[0]).toMatchObject({ type: 'test.series', ip, at: '2024-06-01T12:00:00.000Z', actorId: null });
        expect(items[3]).toMatchObject({ at: '2024-06-01T11:59:59.998Z' }); // 12:00 − 1,001 µs, shown to the millisecond
      });

      it('reads the export in keyset batches (one query per batch), not all at once', async () => {
        const ip = freshIp();
        await seedSeries(ip, 2 * BATCH + 45);
        const page = jest.spyOn(t.app.get(AuditEventDirectory), 'page');
        try {
          const { lines } = await exportOf(`ip=${ip}`);
          expect(lines.filter(Boolean)).toHaveLength(2 * BATCH + 45);
          expect(page.mock.calls.map(([, after, limit]) => [after === null, limit])).toEqual([
            [true, BATCH],
            [false, BATCH],
            [false, BATCH],
          ]);
        } finally {
          page.mockRestore();
        }
      });

      it('answers an empty set with 200 and an empty body; JSON stays the default for other Accept values', async () => {
        const ip = freshIp();
        const empty = await exportOf(`ip=${ip}`);
        expect({ status: empty.res.status, type: empty.res.headers.get('content-type'), text: empty.text }).toEqual({
          status: 200,
          type: NDJSON,
          text: '',
        });
        for (const accept of ['application/json', '*/*', 'text/html']) {
          const { res, text } = await exportOf(`ip=${ip}`, accept);
          expect(res.headers.get('content-type')).toMatch(/^application\/json/);
          expect(JSON.parse(text)).toEqual({ items: [], nextCursor: null });
        }
      });

      it('stops reading when the client goes away, and keeps serving', async () => {
        const ip = freshIp();
        const rows = 60 * BATCH;
        await seedSeries(ip, rows, 2_000); // ~12 MB in all: far more than the socket buffers
        const page = jest.spyOn(t.app.get(AuditEventDirectory), 'page');
        try {
          await new Promise<void>((resolve, reject) => {
            const req = httpGet(
              `${t.url}/api/v1/admin/audit-events?ip=${encodeURIComponent(ip)}`,
              { headers: { ...cast.admin.auth, Accept: NDJSON } },
              (res) => {
                expect(res.statusCode).toBe(200);
                res.once('data', () => {
                  req.destroy();
                  resolve();
                });
              },
            );
            req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
          });
          await new Promise((r) => setTimeout(r, 500));
          const afterClose = page.mock.calls.length;
          await new Promise((r) => setTimeout(r, 500));
          expect(page.mock.calls.length).toBe(afterClose);
          expect(afterClose).toBeLessThan(rows / BATCH / 2);
        } finally {
          page.mockRestore();
        }
        await list(`ip=${ip}&limit=1`).expect(200);
      });
    });
  });
});
