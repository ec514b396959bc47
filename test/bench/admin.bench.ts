import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Agent, request as httpRequest } from 'node:http';
import { DataSource } from 'typeorm';
import { signedInAs } from '../support/admin.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { testConfig } from '../support/test-config.js';
import { benchServices } from './bench-services.js';
import { fmt, print, quantile, verdict } from './bench-report.js';

/**
 * `npm run bench`: the admin API's search and lists on real Postgres.
 *
 * - 100,000 users (30,000 of them with a provider identity): `q` searches of
 *   varying selectivity (a login fragment, a name fragment, an identity
 *   subject fragment) — target p99 ≤ 50 ms.
 * - 1,000,000 audit events: the first page, deep pages (cursor), and the
 *   user/type filters — target p99 ≤ 50 ms per page.
 * Each next to a primary-key lookup (`GET /admin/users/{id}`) measured in the
 * same run, over the same HTTP client (sequential requests, keep-alive), and
 * with the query plans' index names printed.
 */

const USERS = Number(process.env.BENCH_ADMIN_USERS ?? 100_000);
const EVENTS = Number(process.env.BENCH_ADMIN_EVENTS ?? 1_000_000);
const SAMPLES = Number(process.env.BENCH_ADMIN_SAMPLES ?? 200);

let services: Awaited<ReturnType<typeof benchServices>>;
let t: TestApp;
let auth: Record<string, string>;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** One GET on the keep-alive agent: its status, body and milliseconds. */
function get(
  path: string,
): Promise<{ status: number; body: { items?: unknown[]; nextCursor?: string | null }; ms: number }> {
  const { hostname, port } = new URL(t.url);
  const started = performance.now();
  return new Promise((done, fail) => {
    const req = httpRequest({ hostname, port, path, headers: auth, agent }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () =>
        done({ status: res.statusCode ?? 0, body: JSON.parse(text || '{}'), ms: performance.now() - started }),
      );
    });
    req.on('error', fail);
    req.end();
  });
}

async function timed(label: string, paths: () => string): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 10; i++) await get(paths()); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const res = await get(paths());
    if (res.status !== 200) throw new Error(`${label}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    ms.push(res.ms);
  }
  const figures = { p50: quantile(ms, 0.5), p99: quantile(ms, 0.99) };
  print(`  ${label.padEnd(44)} p50 ${fmt(figures.p50, 2).padStart(6)} ms   p99 ${fmt(figures.p99, 2).padStart(6)} ms`);
  return figures;
}

/** The index names in the plan Postgres chooses for `sql`. */
async function indexesUsed(sql: string, params: unknown[]): Promise<string> {
  const plan = (await t.app.get(DataSource).query(`EXPLAIN ${sql}`, params)) as Array<{ 'QUERY PLAN': string }>;
  const names = new Set(
    plan.flatMap((row) =>
      [
        ...row['QUERY PLAN'].matchAll(
          /Index (?:Only )?Scan(?: Backward)? using "?([A-Za-z0-9_]+)"?|Bitmap Index Scan on "?([A-Za-z0-9_]+)"?/g,
        ),
      ].map((m) => (m[1] ?? m[2])!),
    ),
  );
  return names.size > 0 ? [...names].join(', ') : 'no index (sequential scan)';
}

const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;

beforeAll(async () => {
  services = await benchServices();
  if (!services.real) return;
  t = await createTestApp({ config: testConfig({ LOG_LEVEL: 'warn', RATE_LIMITS: 'off', ...services.env }) });
  auth = (await signedInAs(t, ['admin'])).auth;
  const db = t.app.get(DataSource);
  const started = performance.now();
  await db.query(
    `INSERT INTO users (login, display_name, created_at, updated_at)
     SELECT 'u' || lpad(g::text, 6, '0'),
            (ARRAY['Zhang','Wang','Li','Liu','Chen','Yang','Huang','Zhao','Wu','Zhou'])[1 + g % 10] || ' ' ||
            (ARRAY['Wei','Fang','Na','Min','Jing','Lei','Qiang','Jun','Yan','Tao'])[1 + (g / 10) % 10] || ' ' || g,
            now() - (g || ' seconds')::interval, now()
       FROM generate_series(1, $1::int) g`,
    [USERS],
  );
  await db.query(
    `INSERT INTO identities (user_id, provider, subject, subject_kind)
     SELECT id, (ARRAY['wechat','alipay','dingtalk'])[1 + (row_number() OVER ()) % 3], 'o' || md5(id::text), 'unionid'
       FROM (SELECT id FROM users ORDER BY random() LIMIT $1::int) chosen`,
    [Math.round(USERS * 0.3)],
  );
  await db.query(
    `INSERT INTO audit_events (type, at, actor_id, user_id, ip, user_agent, detail)
     SELECT (ARRAY['auth.login_succeeded','auth.login_failed','qr.created','qr.scanned','qr.confirmed','qr.consumed','session.revoked','user.updated'])[1 + g % 8],
            now() - (g || ' milliseconds')::interval * 30,
            NULL,
            u.ids[1 + g % array_length(u.ids, 1)],
            '10.' || (g % 200) || '.' || (g / 200 % 250) || '.1',
            'bench', '{}'::jsonb
       FROM generate_series(1, $1::int) g, (SELECT array_agg(id) AS ids FROM (SELECT id FROM users LIMIT 5000) s) u`,
    [EVENTS],
  );
  await db.query('ANALYZE users; ANALYZE identities; ANALYZE audit_events');
  print(
    `seeded ${fmt(USERS)} users and ${fmt(EVENTS)} audit events in ${fmt((performance.now() - started) / 1000, 1)} s`,
  );
}, 900_000);

afterAll(async () => {
  agent.destroy();
  await t?.close();
  await services?.cleanup();
});

it('user search over 100,000 users and audit pages over 1,000,000 events: p99 ≤ 50 ms, next to a primary-key lookup', async () => {
  if (!services.real) {
    print('[skipped] admin bench: needs real Postgres (set TEST_DATABASE_URL and TEST_REDIS_URL)');
    return;
  }
  const db = t.app.get(DataSource);
  const ids = ((await db.query('SELECT id FROM users ORDER BY random() LIMIT 500')) as Array<{ id: string }>).map(
    (r) => r.id,
  );
  const subjects = (
    (await db.query('SELECT subject FROM identities ORDER BY random() LIMIT 500')) as Array<{ subject: string }>
  ).map((r) => r.subject);
  const eventUsers = (
    (await db.query('SELECT DISTINCT user_id FROM audit_events WHERE user_id IS NOT NULL LIMIT 500')) as Array<{
      user_id: string;
    }>
  ).map((r) => r.user_id);

  print(`admin API on real Postgres, ${SAMPLES} sequential requests each (HTTP, keep-alive):`);
  const pk = await timed('GET /admin/users/{id} (primary key)', () => `/api/v1/admin/users/${pick(ids)}`);
  const searches = [
    await timed(
      'users ?q=<login fragment, 1 match>',
      () => `/api/v1/admin/users?q=u${String(1 + Math.floor(Math.random() * USERS)).padStart(6, '0')}`,
    ),
    await timed(
      'users ?q=<name fragment, ~100 matches>',
      () => `/api/v1/admin/users?q=${encodeURIComponent(`wei ${Math.floor(Math.random() * 900) + 100}`)}`,
    ),
    await timed('users ?q=<identity subject fragment>', () => `/api/v1/admin/users?q=${pick(subjects).slice(3, 15)}`),
    await timed('users (newest first, no filter)', () => '/api/v1/admin/users?limit=50'),
  ];
  // Deep pages: follow a cursor some pages in, then time the next pages.
  const cursors: string[] = [];
  let cursor: string | null | undefined = null;
  for (let i = 0; i < 40; i++) {
    const page = await get(`/api/v1/admin/audit-events?limit=50${cursor ? `&cursor=${cursor}` : ''}`);
    cursor = page.body.nextCursor;
    if (!cursor) break;
    cursors.push(cursor);
  }
  const audits = [
    await timed('audit-events (first page)', () => '/api/v1/admin/audit-events?limit=50'),
    await timed(
      'audit-events (a later page, by cursor)',
      () => `/api/v1/admin/audit-events?limit=50&cursor=${pick(cursors)}`,
    ),
    await timed('audit-events ?userId=', () => `/api/v1/admin/audit-events?limit=50&userId=${pick(eventUsers)}`),
    await timed('audit-events ?type=', () => `/api/v1/admin/audit-events?limit=50&type=qr.confirmed`),
  ];
  print(
    `  indexes: search by name → ${await indexesUsed(`SELECT id FROM users WHERE lower(display_name) LIKE '%wei 123%'`, [])}`,
  );
  print(
    `           search by subject → ${await indexesUsed(`SELECT user_id FROM identities WHERE lower(subject) LIKE $1`, [`%${subjects[0]!.slice(3, 15)}%`])}`,
  );
  print(
    `           newest users → ${await indexesUsed('SELECT id FROM users WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 51', [])}`,
  );
  print(
    `           audit page → ${await indexesUsed('SELECT id FROM audit_events ORDER BY at DESC, id DESC LIMIT 51', [])}`,
  );
  // The shape the repository runs for ?userId= (the user acted upon, or the actor), see admin-audit-events.repository.ts.
  print(
    `           audit by user → ${await indexesUsed(
      `(SELECT id, at FROM audit_events WHERE user_id = $1::uuid ORDER BY at DESC, id DESC LIMIT 51) UNION ALL (SELECT id, at FROM audit_events WHERE actor_id = $1::uuid AND user_id IS DISTINCT FROM $1::uuid ORDER BY at DESC, id DESC LIMIT 51) ORDER BY at DESC, id DESC LIMIT 51`,
      [eventUsers[0]],
    )}`,
  );
  const worstSearch = Math.max(...searches.map((s) => s.p99));
  const worstAudit = Math.max(...audits.map((s) => s.p99));
  print(
    `  user search p99 (worst kind) ${fmt(worstSearch, 2)} ms = ${fmt(worstSearch / pk.p99, 2)} × the primary-key lookup's p99 → ${verdict(worstSearch <= 50)} (≤ 50 ms)`,
  );
  print(
    `  audit page p99 (worst kind)  ${fmt(worstAudit, 2)} ms = ${fmt(worstAudit / pk.p99, 2)} × the primary-key lookup's p99 → ${verdict(worstAudit <= 50)} (≤ 50 ms)`,
  );
  expect(pk.p99).toBeGreaterThan(0);
}, 900_000);
