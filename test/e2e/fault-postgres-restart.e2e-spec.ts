import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import pg from 'pg';
import request from 'supertest';
import type { QrStatusView } from '../../src/qr-login/qr-session.js';
import { bearer, createUser, loginMobile, TEST_PASSWORD, type MobileLogin } from '../support/accounts.js';
import { db } from '../support/rows.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import {
  isStoreUnavailable,
  ms,
  send,
  shape,
  tally,
  until,
  type Flow,
  type Outcome,
  type Step,
} from '../support/faults.js';
import { PostgresCluster, postgresClusterNeed } from '../support/postgres-cluster.js';
import { confirm, confirmedQr, exchange, scan, signInPhone, status, type Phone } from '../support/qr.js';
import { describeWith } from '../support/services.js';
import { connectSocket, type RecordingSocket } from '../support/sockets.js';
import { testConfig } from '../support/test-config.js';

/**
 * Postgres dies under a running app (a PRIVATE cluster: `initdb` of the
 * installed PostgreSQL in a temporary folder, its own port, never the shared
 * server), first crash-like (`pg_ctl stop -m immediate`) with refreshes and QR
 * logins in flight, then cleanly (`-m fast`), and comes back each time:
 *
 * - requests that need Postgres answer 503 `store.unavailable` with the error
 *   envelope (PROTOCOL.md, Errors) and none hangs; readiness names the database;
 * - the same app serves again once Postgres is back (its pool reconnects);
 * - no refresh-token family is left without its head, and no login is lost:
 *   what a client holds after the crash still works;
 * - a QR login whose exchange failed is not consumed without a web session.
 *
 * The outages are driven once, in `beforeAll`, recording every answer; the
 * tests then check one property each.
 */
const NEED = postgresClusterNeed();
const REFRESHERS = 16;
const QR_WORKERS = 4;
const STORM_AFTER_STOP_MS = 1_500;
const SLOW = 180_000;
/** A request unanswered this long counts as hung (status 0 in the records). */
const NO_HANG = { response: 30_000 };

interface Refresher {
  session: MobileLogin;
  /** The refresh token the phone holds now: the newest one it was given. */
  token: string;
  rotations: number;
  /** The refresh that did not answer 200 (the phone keeps its token and tries again later). */
  failed?: Outcome;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWith(NEED, 'Postgres restarted under a running app (private cluster, in-process app and store)', () => {
  let cluster: PostgresCluster;
  let t: TestApp;

  let refreshUser: { id: string; login: string };
  const refreshers: Refresher[] = [];
  let qrUser: { id: string; login: string; phone: Phone };
  const workers: Array<{ userId: string; phone: Phone; exchanged: number }> = [];
  let qrDown: Awaited<ReturnType<typeof confirmedQr>>; // confirmed before the crash, exchanged while down
  let downSocket: RecordingSocket | undefined; // the browser's socket on qrDown

  const flows: Flow[] = [];
  const storm: Outcome[] = []; // refreshes and QR steps around the crash
  const down: Outcome[] = []; // scripted requests while down (crash)
  const down2: Outcome[] = []; // scripted requests while down (clean stop)
  const recovery: Outcome[] = [];
  const recovery2: Outcome[] = [];
  let readyWhileDown: Outcome & { details?: unknown };
  let readyWhileDown2: Outcome & { details?: unknown };
  let stopAt = 0; // pg_ctl stop -m immediate called
  let stoppedAt = 0; // ... and returned: Postgres is gone
  let backAt = 0;
  let firstSuccessMs = -1;
  let firstSuccess2Ms = -1;
  let readyAgainMs = -1;
  let ready2Ms = -1;

  const refreshOnce = (token: string) =>
    request(t.url).post('/api/v1/auth/refresh').send({ refreshToken: token }).timeout(NO_HANG);

  const refreshLoop = async (r: Refresher, running: () => boolean) => {
    while (running() && !r.failed) {
      const outcome = await send('refresh', () => refreshOnce(r.token), storm);
      if (outcome.status === 200) {
        r.token = outcome.res!.body.refreshToken as string;
        r.rotations++;
      } else {
        r.failed = outcome;
      }
    }
  };

  const qrWorker = async (index: number, running: () => boolean) => {
    const { phone } = workers[index]!;
    while (running()) {
      const flow: Flow = { worker: index, lastOk: 'none' };
      flows.push(flow);
      const created = await send(
        'create',
        () => request(t.url).post('/api/v1/qr-sessions').send({}).timeout(NO_HANG),
        storm,
      );
      if (created.status !== 201) {
        flow.failed = created;
        await sleep(50);
        continue;
      }
      const qr = created.res!.body as { id: string; pollToken: string; matchCode?: string };
      flow.qr = qr;
      flow.lastOk = 'create';
      const steps: Array<[Step, () => request.Test]> = [
        ['scan', () => scan(t, phone, qr.id).timeout(NO_HANG)],
        ['confirm', () => confirm(t, phone, qr.id, qr.matchCode).timeout(NO_HANG)],
        ['exchange', () => exchange(t, qr.id, qr.pollToken).timeout(NO_HANG)],
      ];
      for (const [step, call] of steps) {
        const outcome = await send(step, call, storm);
        if (outcome.status !== 200) {
          flow.failed = outcome;
          break;
        }
        flow.lastOk = step;
      }
      if (flow.lastOk === 'exchange') workers[index]!.exchanged++;
      else await sleep(50);
    }
  };

  /** What needs Postgres: sign-in (phone and browser), refresh, the user's profile, a QR exchange. */
  const needsDatabase = (into: Outcome[], qr: { id: string; pollToken: string }, token: string, accessToken: string) =>
    Promise.all([
      send(
        'login (phone)',
        () =>
          request(t.url)
            .post('/api/v1/auth/login')
            .send({
              login: refreshUser.login,
              password: TEST_PASSWORD,
              device: { id: `down-${Date.now()}`, name: 'p', platform: 'android' },
            })
            .timeout(NO_HANG),
        into,
      ),
      send(
        'login (browser)',
        () =>
          request(t.url)
            .post('/api/v1/auth/login')
            .send({ login: refreshUser.login, password: TEST_PASSWORD })
            .timeout(NO_HANG),
        into,
      ),
      send('refresh', () => refreshOnce(token), into),
      send('GET /me', () => request(t.url).get('/api/v1/me').set(bearer(accessToken)).timeout(NO_HANG), into),
      send('exchange', () => exchange(t, qr.id, qr.pollToken).timeout(NO_HANG), into),
    ]);

  const readiness = async () => {
    const o = await send('ready', () => request(t.url).get('/health/ready').timeout(NO_HANG));
    return { ...o, details: o.res?.body?.details };
  };

  /** Polls GET /me (one Postgres read) until it answers 200; the time from `since` to that answer. */
  const firstSuccess = async (into: Outcome[], accessToken: string, since: number) => {
    await until(
      async () =>
        (await send('GET /me', () => request(t.url).get('/api/v1/me').set(bearer(accessToken)).timeout(NO_HANG), into))
          .status === 200,
      60_000,
    );
    const ok = into.find((o) => o.status === 200);
    return ok ? ok.answeredAt - since : -1;
  };

  /** The errors the app logged as unexpected (500 internal), by type, code and message: what the 503 mapping missed. */
  const unexpectedErrors = () => {
    const counts: Record<string, number> = {};
    for (const entry of t.log.entries()) {
      if (typeof entry.msg !== 'string' || !entry.msg.startsWith('Unexpected error')) continue;
      const err = (entry.err ?? {}) as { type?: string; code?: string; message?: string };
      const key = `${err.type ?? '?'} ${err.code ?? '-'} ${String(err.message ?? '')
        .replace(/:\d+$/, ':<port>')
        .slice(0, 90)}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  };

  const webQrSessions = async (userId: string) =>
    (
      (await db(t).query(
        `SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND kind = 'web' AND created_via = 'qr'`,
        [userId],
      )) as Array<{ n: number }>
    )[0]!.n;

  /**
   * Postgres dies right after a request's transaction committed, before its
   * next statement: a side connection holds an ACCESS EXCLUSIVE lock on
   * `table`, which the request reaches only after its commit; once
   * `committed` sees the commit and the request waits on the lock, Postgres
   * is stopped (-m immediate), then started again. Returns how the request
   * was answered.
   */
  const crashAfterCommit = async (
    table: string,
    fire: () => Promise<Outcome>,
    committed: (probe: pg.Client) => Promise<boolean>,
  ) => {
    const holder = new pg.Client({ connectionString: cluster.url });
    const probe = new pg.Client({ connectionString: cluster.url });
    for (const c of [holder, probe]) c.on('error', () => undefined); // they die with the server
    try {
      await holder.connect();
      await probe.connect();
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
      const answer = fire();
      const blocked = async () =>
        (
          (
            await probe.query(
              `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
            )
          ).rows[0] as { n: number }
        ).n > 0;
      const reached = await until(async () => (await committed(probe)) && (await blocked()), 30_000);
      await cluster.stop('immediate');
      const outcome = await answer;
      return { reached, outcome };
    } finally {
      await Promise.allSettled([holder.end(), probe.end()]);
      if (!cluster.running) await cluster.start();
      await until(async () => (await request(t.url).get('/health/ready')).status === 200, 60_000);
    }
  };

  beforeAll(async () => {
    cluster = await PostgresCluster.create();
    await cluster.start();
    t = await createTestApp({
      config: testConfig({
        LOG_LEVEL: 'warn',
        DATABASE_URL: cluster.url,
        RATE_LIMITS: 'off',
        QR_TTL_SECONDS: '300',
        DATABASE_POOL_SIZE: '10',
      }),
    });

    const r = await createUser(t);
    refreshUser = { id: r.user.id, login: r.login };
    for (let i = 0; i < REFRESHERS; i++) {
      const session = await loginMobile(t, r.login);
      refreshers.push({ session, token: session.refreshToken, rotations: 0 });
    }
    const q = await createUser(t);
    qrUser = { id: q.user.id, login: q.login, phone: await signInPhone(t, q.login) };
    for (let i = 0; i < QR_WORKERS; i++) {
      const w = await createUser(t);
      workers.push({ userId: w.user.id, phone: await signInPhone(t, w.login), exchanged: 0 });
    }
    // A whole QR login before anything breaks (the phone's device key is then known to the app).
    const warm = await confirmedQr(t, qrUser.phone);
    await exchange(t, warm.id, warm.pollToken).expect(200);
    qrDown = await confirmedQr(t, qrUser.phone);
    downSocket = await connectSocket(t.url, '/qr', { id: qrDown.id, pollToken: qrDown.pollToken });
    await downSocket.nth('qr.status', 0, 10_000);

    // Crash: refreshes and QR logins in a loop; Postgres is killed under them.
    let running = true;
    const crowd = [
      ...refreshers.map((rf) => refreshLoop(rf, () => running)),
      ...workers.map((_, i) => qrWorker(i, () => running)),
    ];
    await until(() => refreshers.every((rf) => rf.rotations >= 3) && workers.every((w) => w.exchanged >= 1), 60_000);
    await sleep(23);
    stopAt = performance.now();
    await cluster.stop('immediate');
    stoppedAt = performance.now();
    await sleep(STORM_AFTER_STOP_MS);
    running = false;
    await Promise.all(crowd);

    await needsDatabase(down, qrDown, refreshers[0]!.token, refreshers[0]!.session.accessToken);
    readyWhileDown = await readiness();

    await cluster.start();
    backAt = performance.now();
    firstSuccessMs = await firstSuccess(recovery, refreshers[0]!.session.accessToken, backAt);
    await until(async () => (await request(t.url).get('/health/ready')).status === 200, 60_000);
    readyAgainMs = performance.now() - backAt;

    // A clean stop this time (-m fast), with the app idle: the pool's connections all die at once.
    const qr2 = await confirmedQr(t, qrUser.phone);
    await cluster.stop('fast');
    await needsDatabase(down2, qr2, refreshers[1]!.token, refreshers[1]!.session.accessToken);
    readyWhileDown2 = await readiness();
    await cluster.start();
    const back2 = performance.now();
    firstSuccess2Ms = await firstSuccess(recovery2, refreshers[0]!.session.accessToken, back2);
    await until(async () => (await request(t.url).get('/health/ready')).status === 200, 60_000);
    ready2Ms = performance.now() - back2;

    const inFlight = storm.filter((o) => o.sentAt < stopAt && o.answeredAt >= stopAt);
    const whileDown = storm.filter((o) => o.sentAt >= stopAt);
    console.log(
      [
        `Postgres restart figures (private cluster; pg_ctl stop -m immediate with ${REFRESHERS} refreshers and ${QR_WORKERS} QR workers busy, then -m fast idle):`,
        `  storm: ${storm.length} requests; in flight at the crash: ${JSON.stringify(tally(inFlight))}`,
        `  storm sent while down: ${JSON.stringify(tally(whileDown))}`,
        `  scripted while down (crash): ${JSON.stringify(Object.fromEntries(down.map((o) => [o.label, `${o.status} ${o.code ?? ''}`.trim()])))}`,
        `  scripted while down (clean stop): ${JSON.stringify(Object.fromEntries(down2.map((o) => [o.label, `${o.status} ${o.code ?? ''}`.trim()])))}`,
        `  readiness while down: ${readyWhileDown.status} ${JSON.stringify(readyWhileDown.details)}; after the clean stop: ${readyWhileDown2.status} ${JSON.stringify(readyWhileDown2.details)}`,
        `  outage ${ms(backAt - stopAt)} ms (stop → pg_ctl start returned; the stop itself took ${ms(stoppedAt - stopAt)} ms)`,
        `  Postgres back → first success (GET /me): ${ms(firstSuccessMs)} ms after the crash (${recovery.length - 1} failed before), ${ms(firstSuccess2Ms)} ms after the clean stop (${recovery2.length - 1} failed before)`,
        `  Postgres back → /health/ready 200: ${ms(readyAgainMs)} ms / ${ms(ready2Ms)} ms`,
        `  all 5xx / no answer: ${JSON.stringify(tally([...storm, ...down, ...down2, ...recovery, ...recovery2].filter((o) => o.status >= 500 || o.status === 0)))}`,
        `  errors behind the 500s (app log): ${JSON.stringify(unexpectedErrors())}`,
      ].join('\n'),
    );
  }, SLOW);

  afterAll(async () => {
    downSocket?.close();
    await t?.close();
    await cluster?.destroy();
  }, SLOW);

  it('answers every request that needs Postgres with 503 store.unavailable and the error envelope while it is down (crash or clean stop), without hanging', () => {
    expect(down.length + down2.length).toBe(10);
    const expected = (o: Outcome) => ({ label: o.label, status: 503, code: 'store.unavailable', envelope: true });
    expect(down.map(shape)).toEqual(down.map(expected));
    expect(down2.map(shape)).toEqual(down2.map(expected));
  });

  it('answers the refreshes and QR logins in flight at the crash, and those sent after it, with success or 503 store.unavailable: never another 5xx, never a hang', () => {
    const met = storm.filter((o) => o.answeredAt >= stopAt && o.status !== 200 && o.status !== 201);
    expect(met.length).toBeGreaterThan(0); // the crash was met
    expect(storm.filter((o) => !(o.status >= 200 && o.status < 300) && !isStoreUnavailable(o)).map(shape)).toEqual([]);
  });

  it('reports not ready while Postgres is down, naming the database, and ready again once it is back', async () => {
    for (const ready of [readyWhileDown, readyWhileDown2]) {
      expect({ status: ready.status, code: ready.code, envelope: ready.envelope }).toEqual({
        status: 503,
        code: 'store.unavailable',
        envelope: true,
      });
      expect(ready.details).toEqual([{ path: 'database', message: 'down' }]);
    }
    await request(t.url)
      .get('/health/ready')
      .expect(200, { status: 'ok', checks: { database: 'up', store: 'up' } });
  });

  it('recovers without a restart once Postgres is back: sign-in, refresh and a whole QR login work again', async () => {
    expect(firstSuccessMs).toBeGreaterThanOrEqual(0);
    expect(firstSuccess2Ms).toBeGreaterThanOrEqual(0);
    const phone = await loginMobile(t, refreshUser.login);
    await request(t.url).post('/api/v1/auth/refresh').send({ refreshToken: phone.refreshToken }).expect(200);
    await request(t.url)
      .post('/api/v1/auth/login')
      .send({ login: refreshUser.login, password: TEST_PASSWORD })
      .expect(200);
    const before = await webQrSessions(qrUser.id);
    const qr = await confirmedQr(t, qrUser.phone);
    const signedIn = await exchange(t, qr.id, qr.pollToken).expect(200);
    expect(signedIn.body.user.id).toBe(qrUser.id);
    expect(await webQrSessions(qrUser.id)).toBe(before + 1);
  });

  it('does not consume a QR login whose exchange failed while Postgres was down: once it is back the same login exchanges exactly once', async () => {
    // The browser was told 503 (nothing half-written): its confirmed login must still be there.
    const now = (await status(t, qrDown.id, qrDown.pollToken).expect(200)).body as QrStatusView;
    expect(now.status).toBe('confirmed');
    const before = await webQrSessions(qrUser.id);
    const answers = await Promise.all(Array.from({ length: 3 }, () => exchange(t, qrDown.id, qrDown.pollToken)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 410, 410]);
    expect(await webQrSessions(qrUser.id)).toBe(before + 1);
  });

  it('never tells the browser socket of a login whose exchange failed for want of Postgres that it was consumed (consumed is terminal)', async () => {
    // Watching qrDown since it was confirmed; the exchange that succeeds ran in the previous test (or runs now).
    if (((await status(t, qrDown.id, qrDown.pollToken).expect(200)).body as QrStatusView).status === 'confirmed') {
      await exchange(t, qrDown.id, qrDown.pollToken).expect(200);
    }
    const final = (await status(t, qrDown.id, qrDown.pollToken).expect(200)).body as QrStatusView;
    expect(final.status).toBe('consumed');
    await until(() => downSocket!.all('qr.status').length >= 2, 5_000);
    // Told `confirmed`, then `consumed` once: by the exchange that signed the browser in (the final version), not by one that failed.
    expect(downSocket!.all<QrStatusView>('qr.status').map((v) => `${v.status}:${v.version}`)).toEqual([
      'confirmed:3',
      `consumed:${final.version}`,
    ]);
  });

  it('leaves every active session with exactly one unused refresh token (its family head), refreshes in flight at the crash included', async () => {
    const headless = (await db(t).query(
      `SELECT s.id, s.kind, count(rt.id) FILTER (WHERE rt.rotated_at IS NULL)::int AS heads
         FROM sessions s LEFT JOIN refresh_tokens rt ON rt.session_id = s.id
        WHERE s.revoked_at IS NULL
        GROUP BY s.id, s.kind
       HAVING count(rt.id) FILTER (WHERE rt.rotated_at IS NULL) <> 1`,
    )) as Array<{ id: string; kind: string; heads: number }>;
    expect(headless).toEqual([]);
    const refresherHeads = (await db(t).query(
      `SELECT count(*)::int AS n FROM refresh_tokens WHERE rotated_at IS NULL AND session_id = ANY($1::uuid[])`,
      [refreshers.map((r) => r.session.sessionId)],
    )) as Array<{ n: number }>;
    expect(refresherHeads[0]!.n).toBe(REFRESHERS);
  });

  it('keeps every phone that was refreshing at the crash signed in: the refresh token it holds (new after a 200, old after a 503) still refreshes', async () => {
    // Every refresher's last refresh failed (Postgres died); none may have lost its session.
    expect(refreshers.map((r) => r.failed !== undefined)).toEqual(refreshers.map(() => true));
    const results = [];
    for (const r of refreshers) {
      // Before trying: had the server already rotated the token the phone holds (the refresh committed, its answer an error)?
      const held = (await db(t).query(`SELECT rotated_at FROM refresh_tokens WHERE token_hash = $1`, [
        createHash('sha256').update(r.token, 'utf8').digest(),
      ])) as Array<{ rotated_at: Date | null }>;
      const res = await refreshOnce(r.token);
      results.push({
        lastAnswer: `${r.failed?.status} ${r.failed?.code ?? ''}`.trim(),
        heldTokenAlreadyRotated: held[0]?.rotated_at != null,
        now: res.status === 200 ? 200 : `${res.status} ${res.body.code}`,
      });
    }
    console.log(
      `Postgres restart: refreshers ${REFRESHERS}, logins lost ${results.filter((x) => x.now !== 200).length}: ${JSON.stringify(results.filter((x) => x.now !== 200))}; last answers ${JSON.stringify(tally(refreshers.map((r) => r.failed!)))}`,
    );
    expect(results.map((x) => x.now)).toEqual(results.map(() => 200));
  });

  it('gives each QR login interrupted by the crash at most one web session, and loses none whose exchange was sent while Postgres was down', async () => {
    // Logins whose exchange failed: where are they now?
    const failedExchanges = flows.filter((f) => f.failed?.label === 'exchange');
    const states = await Promise.all(
      failedExchanges.map(async (f) => ((await status(t, f.qr!.id, f.qr!.pollToken)).body as QrStatusView).status),
    );
    const sentWhileDown = failedExchanges
      .map((f, i) => ({ f, state: states[i] }))
      .filter(({ f }) => f.failed!.sentAt >= stoppedAt);
    const lost = sentWhileDown.filter(({ state }) => state === 'consumed').length;
    // A session may exist without a 200 only for an exchange in flight at the crash (committed, answer lost).
    const perWorker = await Promise.all(
      workers.map(async (w, i) => ({
        exchanged: w.exchanged,
        inFlight: failedExchanges.filter((f) => f.worker === i && f.failed!.sentAt < stoppedAt).length,
        sessions: await webQrSessions(w.userId),
      })),
    );
    const orphans = perWorker.reduce((n, w) => n + Math.max(0, w.sessions - w.exchanged), 0);
    console.log(
      `Postgres restart: QR exchanges that failed ${failedExchanges.length} (${JSON.stringify(tally(failedExchanges.map((f) => f.failed!)))}); ` +
        `now: ${JSON.stringify(states.reduce<Record<string, number>>((c, s) => ((c[s] = (c[s] ?? 0) + 1), c), {}))}; ` +
        `sent while down ${sentWhileDown.length}, of which lost (consumed without a session) ${lost}; web sessions without a 200 (in flight at the crash) ${orphans}`,
    );
    // Every successful exchange has its one web session; none has two.
    for (const w of perWorker) {
      expect(w.sessions).toBeGreaterThanOrEqual(w.exchanged);
      expect(w.sessions).toBeLessThanOrEqual(w.exchanged + w.inFlight);
    }
    expect(sentWhileDown.map(({ state }) => state)).toEqual(sentWhileDown.map(() => 'confirmed'));
  });

  it('keeps a phone signed in when Postgres dies in the middle of its refresh: nothing was committed, the token it holds still refreshes', async () => {
    const phone = await loginMobile(t, refreshUser.login);
    const hash = createHash('sha256').update(phone.refreshToken, 'utf8').digest();
    // The rotation reads the user inside its transaction: it waits there on the lock when Postgres dies.
    const { reached, outcome } = await crashAfterCommit(
      'users',
      () => send('refresh', () => refreshOnce(phone.refreshToken)),
      async () => true,
    );
    expect(reached).toBe(true);
    console.log(`Postgres dies in the middle of a refresh: answered ${outcome.status} ${outcome.code ?? ''}`);
    expect(isStoreUnavailable(outcome)).toBe(true);
    // Nothing of the rotation survived: the phone's token is still the family head, and refreshes.
    const rows = (await db(t).query('SELECT rotated_at FROM refresh_tokens WHERE token_hash = $1', [hash])) as Array<{
      rotated_at: Date | null;
    }>;
    expect(rows).toEqual([{ rotated_at: null }]);
    const again = await refreshOnce(phone.refreshToken);
    expect({ status: again.status, code: again.body.code }).toEqual({ status: 200, code: undefined });
  });

  it('signs the browser in (200, one web session) when Postgres dies after its exchange committed the session, while the audit row is written', async () => {
    const qr = await confirmedQr(t, qrUser.phone);
    await until(
      async () =>
        (await db(t).query(`SELECT 1 FROM audit_events WHERE type = 'qr.confirmed' ORDER BY at DESC LIMIT 1`)).length >
        0,
      10_000,
    );
    const before = await webQrSessions(qrUser.id);
    // The exchange inserts the web session (commit), then its audit row: that insert waits on the lock when Postgres dies.
    const { reached, outcome } = await crashAfterCommit(
      'audit_events',
      () => send('exchange', () => exchange(t, qr.id, qr.pollToken).timeout(NO_HANG)),
      async (probe) =>
        (
          (
            await probe.query(
              `SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND kind = 'web' AND created_via = 'qr'`,
              [qrUser.id],
            )
          ).rows[0] as { n: number }
        ).n > before,
    );
    expect(reached).toBe(true);
    console.log(
      `Postgres dies after an exchange committed its session: answered ${outcome.status} ${outcome.code ?? ''}`,
    );
    // The session exists: a lost audit row must not turn the sign-in into an error (a retry would make a second one).
    expect(outcome.status).toBe(200);
    expect((await status(t, qr.id, qr.pollToken).expect(200)).body.status).toBe('consumed');
    expect((await webQrSessions(qrUser.id)) - before).toBe(1);
  });
});
