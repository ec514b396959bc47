import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import request from 'supertest';
import type { QrSessionRecord, QrStatusView } from '../../src/qr-login/qr-session.js';
import { QR_EXCHANGE_LEASE_MS } from '../../src/qr-login/qr-sessions.store.js';
import { createUser } from '../support/accounts.js';
import { db } from '../support/rows.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import {
  illegalQrRecord,
  isStoreUnavailable,
  keepReconnecting,
  ms,
  send,
  shape,
  tally,
  until,
  type Flow,
  type Outcome,
  type Step,
} from '../support/faults.js';
import { confirm, createQr, exchange, scan, signInPhone, status, type Phone } from '../support/qr.js';
import { RedisServer, redisServerAvailable } from '../support/redis-server.js';
import {
  assertBuilt,
  freePort,
  startServer,
  stopStartedServers,
  waitForOk,
  type ServerProcess,
} from '../support/server-process.js';
import { describeWith } from '../support/services.js';
import { connectSocket, type RecordingSocket } from '../support/sockets.js';
import { testConfig } from '../support/test-config.js';

/**
 * Redis dies (SIGKILL) in the middle of QR logins and comes back with its data
 * (a private redis-server on its own port, append-only file fsynced before each
 * reply, so nothing it acknowledged is lost), under one in-process app:
 *
 * - the QR requests in flight at the kill, and every one sent while Redis is
 *   down, answer 503 `store.unavailable` with the error envelope;
 * - afterwards every stored QR session is in one legal state of the state
 *   table (version consistent), and every transition Redis acknowledged is kept;
 * - a login started before the outage finishes after it, with one web session;
 * - `/qr` sockets come back to the current status.
 *
 * The outage itself is driven once, in `beforeAll`, recording what every
 * request got; the tests then check one property each.
 */
const NEED = redisServerAvailable() ? undefined : 'the redis-server binary is not installed';
/** Browsers and phones logging in, in a loop, while Redis dies. */
const WORKERS = 6;
/** How long the workers keep going after the kill (their requests all meet a dead Redis). */
const STORM_AFTER_KILL_MS = 1_500;
const SLOW = 120_000;
/** A request unanswered this long counts as hung (status 0 in the records): far beyond any fail-fast timeout. */
const NO_HANG = { response: 30_000 };

const RANK: Record<Step | 'none', number> = { none: 0, create: 1, scan: 2, confirm: 3, exchange: 4 };
const STATUS_RANK: Record<string, number> = { pending: 1, scanned: 2, confirmed: 3, consumed: 4 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWith(NEED, 'Redis restarted in the middle of QR logins (private redis-server with AOF, in-process app)', () => {
  let redis: RedisServer;
  let t: TestApp;
  let inspect: Redis | undefined;
  const prefix = `fr${randomBytes(4).toString('hex')}:`;
  const sockets: RecordingSocket[] = [];
  const reconnectors: Array<ReturnType<typeof keepReconnecting>> = [];

  // The cast: one user with a phone for the scripted logins, one per worker.
  let main: { userId: string; phone: Phone };
  const workers: Array<{ userId: string; phone: Phone; exchanged: number }> = [];

  // Scripted QR sessions, all made before the outage.
  let qrMain: Awaited<ReturnType<typeof createQr>>; // scanned before; confirmed and exchanged after
  let qrSock: Awaited<ReturnType<typeof createQr>>; // its socket drops during the outage
  let qrSpare: Awaited<ReturnType<typeof createQr>>; // pending: scanned while Redis is down
  let s1: RecordingSocket; // on qrMain, stays connected through the restart
  let s2: RecordingSocket; // on qrSock, transport dropped during the outage
  let s2Retry: ReturnType<typeof keepReconnecting>;

  // What happened.
  const flows: Flow[] = [];
  const storm: Outcome[] = [];
  const down: Outcome[] = [];
  const recovery: Outcome[] = [];
  let readyWhileDown: Outcome & { details?: unknown };
  let killAt = 0;
  let backAt = 0;
  let firstSuccessMs = -1;
  let readyAgainMs = -1;

  const runFlow = async (index: number, phone: Phone, flow: Flow) => {
    const created = await send(
      'create',
      () => request(t.url).post('/api/v1/qr-sessions').send({}).timeout(NO_HANG),
      storm,
    );
    if (created.status !== 201) return void (flow.failed = created);
    const body = created.res!.body as { id: string; pollToken: string; matchCode?: string };
    flow.qr = { id: body.id, pollToken: body.pollToken, matchCode: body.matchCode };
    flow.lastOk = 'create';
    const steps: Array<[Step, () => request.Test]> = [
      ['scan', () => scan(t, phone, body.id).timeout(NO_HANG)],
      ['confirm', () => confirm(t, phone, body.id, body.matchCode).timeout(NO_HANG)],
      ['exchange', () => exchange(t, body.id, body.pollToken).timeout(NO_HANG)],
    ];
    for (const [step, call] of steps) {
      const outcome = await send(step, call, storm);
      if (outcome.status !== 200) return void (flow.failed = outcome);
      flow.lastOk = step;
    }
    workers[index]!.exchanged++;
  };

  const worker = async (index: number, running: () => boolean) => {
    while (running()) {
      const flow: Flow = { worker: index, lastOk: 'none' };
      flows.push(flow);
      await runFlow(index, workers[index]!.phone, flow);
      if (flow.failed) await sleep(50);
    }
  };

  const webQrSessions = async (userId: string) =>
    (
      (await db(t).query(
        `SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND kind = 'web' AND created_via = 'qr' AND revoked_at IS NULL`,
        [userId],
      )) as Array<{ n: number }>
    )[0]!.n;

  beforeAll(async () => {
    redis = await RedisServer.start({ persistence: 'aof' });
    t = await createTestApp({
      config: testConfig({
        LOG_LEVEL: 'warn',
        REDIS_URL: redis.url,
        STORE_KEY_PREFIX: prefix,
        RATE_LIMITS: 'off',
        QR_TTL_SECONDS: '300',
      }),
    });
    const { user, login } = await createUser(t);
    main = { userId: user.id, phone: await signInPhone(t, login) };
    for (let i = 0; i < WORKERS; i++) {
      const created = await createUser(t);
      workers.push({ userId: created.user.id, phone: await signInPhone(t, created.login), exchanged: 0 });
    }

    qrMain = await createQr(t);
    s1 = await connectSocket(t.url, '/qr', { id: qrMain.id, pollToken: qrMain.pollToken }, { reconnection: true });
    sockets.push(s1);
    await s1.nth('qr.status', 0, 10_000);
    await scan(t, main.phone, qrMain.id).expect(200);
    await s1.nth('qr.status', 1, 10_000);

    qrSock = await createQr(t);
    s2 = await connectSocket(t.url, '/qr', { id: qrSock.id, pollToken: qrSock.pollToken }, { reconnection: true });
    sockets.push(s2);
    s2Retry = keepReconnecting(s2);
    reconnectors.push(s2Retry);
    await s2.nth('qr.status', 0, 10_000);
    qrSpare = await createQr(t);

    // The storm: every worker logs in again and again; Redis dies under them.
    let running = true;
    const crowd = workers.map((_, i) => worker(i, () => running));
    await until(() => workers.every((w) => w.exchanged >= 2), 60_000);
    await sleep(37); // land the kill mid-flow, not at a flow boundary
    killAt = performance.now();
    await redis.stop(); // SIGKILL
    await sleep(STORM_AFTER_KILL_MS);
    running = false;
    await Promise.all(crowd);

    // While down: every step of the scripted login, a long poll, readiness, a socket's reconnect.
    const downCalls: Array<[string, () => request.Test]> = [
      ['status', () => status(t, qrMain.id, qrMain.pollToken)],
      [
        'long poll',
        () =>
          request(t.url)
            .get(`/api/v1/qr-sessions/${qrMain.id}?waitSeconds=3&afterVersion=2`)
            .set('X-Poll-Token', qrMain.pollToken),
      ],
      ['confirm', () => confirm(t, main.phone, qrMain.id, qrMain.matchCode)],
      ['exchange', () => exchange(t, qrMain.id, qrMain.pollToken)],
      ['create', () => request(t.url).post('/api/v1/qr-sessions').send({})],
      ['scan', () => scan(t, main.phone, qrSpare.id)],
      ['qr.svg', () => request(t.url).get(`/api/v1/qr-sessions/${qrSpare.id}/qr.svg`)],
    ];
    for (const [label, call] of downCalls) await send(label, () => call().timeout(NO_HANG), down);
    const ready = await send('ready', () => request(t.url).get('/health/ready').timeout(NO_HANG));
    readyWhileDown = { ...ready, details: ready.res?.body?.details };

    s2.socket.io.engine.close(); // the browser's connection drops; it reconnects by itself
    await until(() => s2Retry.refusals.length >= 2, 30_000);
    s2Retry.pause(); // ... and stays away a little longer than Redis

    // Redis comes back (with its data); the same app must serve again by itself.
    await redis.start();
    backAt = performance.now();
    await until(async () => {
      const o = await send(
        'create',
        () => request(t.url).post('/api/v1/qr-sessions').send({}).timeout(NO_HANG),
        recovery,
      );
      return o.status === 201;
    }, 60_000);
    const firstOk = recovery.find((o) => o.status === 201);
    firstSuccessMs = firstOk ? firstOk.answeredAt - backAt : -1;
    await until(async () => (await request(t.url).get('/health/ready')).status === 200, 60_000);
    readyAgainMs = performance.now() - backAt;

    inspect = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await inspect.connect();

    const inFlight = storm.filter((o) => o.sentAt < killAt && o.answeredAt >= killAt);
    const afterKill = storm.filter((o) => o.sentAt >= killAt);
    console.log(
      [
        `Redis restart figures (private redis-server, AOF appendfsync always, SIGKILL):`,
        `  storm: ${storm.length} requests by ${WORKERS} workers; ${inFlight.length} in flight at the kill: ${JSON.stringify(tally(inFlight))}`,
        `  sent while down (storm): ${JSON.stringify(tally(afterKill))}; scripted while down: ${JSON.stringify(tally(down))}`,
        `  outage ${ms(backAt - killAt)} ms (kill → Redis answering PING again)`,
        `  Redis back → first successful QR request: ${ms(firstSuccessMs)} ms (${recovery.length - 1} refused meanwhile: ${JSON.stringify(tally(recovery.filter((o) => o.status !== 201)))})`,
        `  Redis back → /health/ready 200: ${ms(readyAgainMs)} ms`,
        `  all 5xx seen: ${JSON.stringify(tally([...storm, ...down, ...recovery].filter((o) => o.status >= 500 || o.status === 0)))}`,
      ].join('\n'),
    );
  }, SLOW);

  afterAll(async () => {
    for (const r of reconnectors) r.stop();
    for (const s of sockets) s.close();
    inspect?.disconnect();
    // Bring Redis back first, so that the app's connections close cleanly.
    await redis?.start().catch(() => undefined);
    await t?.close();
    await redis?.destroy();
  }, SLOW);

  it('answers QR requests in flight when Redis dies, and every QR request while it is down, with 503 store.unavailable and the error envelope', () => {
    const afterKill = storm.filter((o) => o.answeredAt >= killAt);
    // The outage was met: requests were in flight or sent after the kill, and they failed.
    expect(afterKill.filter(isStoreUnavailable).length).toBeGreaterThan(0);
    // Every storm answer is a success or the promised 503; nothing else (no 500, no 4xx, no hang).
    expect(storm.filter((o) => !(o.status >= 200 && o.status < 300) && !isStoreUnavailable(o)).map(shape)).toEqual([]);
    // Every scripted request while down: 503 store.unavailable with the envelope (the QR image included: it checks the session exists).
    expect(down.map(shape)).toEqual(
      down.map((o) => ({ label: o.label, status: 503, code: 'store.unavailable', envelope: true })),
    );
  });

  it('reports not ready, naming the store, while Redis is down, and ready again once it is back', async () => {
    expect({ status: readyWhileDown.status, code: readyWhileDown.code, envelope: readyWhileDown.envelope }).toEqual({
      status: 503,
      code: 'store.unavailable',
      envelope: true,
    });
    expect(readyWhileDown.details).toEqual([{ path: 'store', message: 'down' }]);
    await request(t.url).get('/health/ready').expect(200);
  });

  it('refuses a /qr socket handshake while Redis is down with connect error store.unavailable and its envelope', () => {
    expect(s2Retry.refusals.length).toBeGreaterThan(0);
    for (const refusal of s2Retry.refusals) {
      expect(refusal).toEqual({
        message: 'store.unavailable',
        data: { code: 'store.unavailable', message: expect.any(String), requestId: expect.any(String) },
      });
    }
  });

  it('leaves every stored QR session in exactly one legal state of the state table, with a consistent version, and keeps every transition Redis acknowledged', async () => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await inspect!.scan(cursor, 'MATCH', `${prefix}qr:session:*`, 'COUNT', 500);
      keys.push(...found);
      cursor = next;
    } while (cursor !== '0');
    const stored = new Map<string, QrSessionRecord>();
    const unreadable: string[] = [];
    for (const key of keys) {
      const raw = await inspect!.get(key);
      try {
        const record = JSON.parse(raw!) as QrSessionRecord;
        stored.set(record.id, record);
      } catch {
        unreadable.push(key);
      }
    }
    expect(unreadable).toEqual([]);
    const started = flows.filter((f) => f.qr);
    expect(stored.size).toBeGreaterThanOrEqual(started.length + 3);

    // One legal state each: status, version and scanner agree with a walk through the state table.
    const illegal = [...stored.values()]
      .map((r) => ({ id: r.id.slice(0, 8), why: illegalQrRecord(r) }))
      .filter((r) => r.why);
    expect(illegal).toEqual([]);

    // Every transition a client was told succeeded survived the crash (none rolled back, none half-applied).
    const lostAcks = started
      .map((f) => ({ f, record: stored.get(f.qr!.id) }))
      .filter(({ f, record }) => !record || (STATUS_RANK[record.status] ?? 0) < RANK[f.lastOk])
      .map(({ f, record }) => ({ lastOk: f.lastOk, stored: record?.status ?? 'missing' }));
    expect(lostAcks).toEqual([]);

    // The API says what the store holds.
    for (const f of started.slice(0, 20)) {
      const res = await status(t, f.qr!.id, f.qr!.pollToken).expect(200);
      const record = stored.get(f.qr!.id)!;
      expect(res.body).toMatchObject({ status: record.status, version: record.version });
    }
  });

  it('resumes the flow after Redis is back: a QR created and scanned before the outage is confirmed and exchanged after it, giving exactly one web session', async () => {
    await status(t, qrMain.id, qrMain.pollToken)
      .expect(200)
      .expect((res) => expect(res.body).toMatchObject({ status: 'scanned', version: 2 }));
    await confirm(t, main.phone, qrMain.id, qrMain.matchCode).expect(200, { status: 'confirmed' });
    const answers = await Promise.all(Array.from({ length: 4 }, () => exchange(t, qrMain.id, qrMain.pollToken)));
    const ok = answers.filter((res) => res.status === 200);
    expect(ok).toHaveLength(1);
    expect(ok[0]!.body.user.id).toBe(main.userId);
    for (const res of answers.filter((r) => r.status !== 200)) {
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 410, code: 'qr.consumed' });
    }
    expect(await webQrSessions(main.userId)).toBe(1);
  });

  it('keeps a /qr socket that stayed connected through the restart told of every change made after it', async () => {
    // qrMain was confirmed and exchanged by the previous test.
    const seen = await s1.nth<QrStatusView>('qr.status', 3, 10_000).then(
      () => s1.all<QrStatusView>('qr.status').map((v) => [v.status, v.version]),
      () => s1.all<QrStatusView>('qr.status').map((v) => [v.status, v.version]),
    );
    expect(seen).toEqual([
      ['pending', 1],
      ['scanned', 2],
      ['confirmed', 3],
      ['consumed', 4],
    ]);
  });

  it('sends a /qr socket that reconnects after the outage the current status (what the store holds), then every later change', async () => {
    // It missed a change while away: the phone scanned after Redis came back.
    await scan(t, main.phone, qrSock.id).expect(200);
    const connectsBefore = s2Retry.receivedAt.length;
    s2Retry.resume();
    expect(await until(() => s2Retry.receivedAt.length > connectsBefore && s2.socket.connected, 30_000)).toBe(true);
    const from = s2Retry.receivedAt.at(-1)!;
    const firstAfter = await until(() => s2.received.length > from, 10_000);
    expect(firstAfter).toBe(true);
    const [event, view] = s2.received[from]!;
    const record = JSON.parse((await inspect!.get(`${prefix}qr:session:${qrSock.id}`))!) as QrSessionRecord;
    expect(event).toBe('qr.status');
    expect(view).toEqual({
      id: qrSock.id,
      status: record.status,
      version: record.version,
      expiresAt: new Date(record.expiresAt).toISOString(),
    });
    expect(view).toMatchObject({ status: 'scanned', version: 2 });

    await confirm(t, main.phone, qrSock.id, qrSock.matchCode).expect(200);
    await exchange(t, qrSock.id, qrSock.pollToken).expect(200);
    await until(() => s2.all<QrStatusView>('qr.status').some((v) => v.status === 'consumed'), 10_000);
    const after = s2.received
      .slice(from)
      .map(([name, v]) => [name, (v as QrStatusView).status, (v as QrStatusView).version]);
    expect(after).toEqual([
      ['qr.status', 'scanned', 2],
      ['qr.status', 'confirmed', 3],
      ['qr.status', 'consumed', 4],
    ]);
  });

  it('lets every login the outage interrupted finish once Redis is back, with exactly one web session per successful exchange (none doubled)', async () => {
    // Carry on each interrupted login from where the store says it is.
    let lost = 0;
    let held = 0;
    for (const flow of flows.filter((f) => f.qr && f.lastOk !== 'exchange')) {
      const { id, pollToken, matchCode } = flow.qr!;
      const phone = workers[flow.worker]!.phone;
      const current = (await status(t, id, pollToken).expect(200)).body as QrStatusView;
      if (current.status === 'consumed') {
        lost++; // consumed, but no browser was ever told: its exchange answered 503
        continue;
      }
      if (current.status === 'pending') await scan(t, phone, id).expect(200);
      if (current.status === 'pending' || current.status === 'scanned')
        await confirm(t, phone, id, matchCode).expect(200);
      const first = await exchange(t, id, pollToken);
      if (first.status === 410 && first.body.code === 'qr.consumed') {
        // Its exchange during the outage claimed the session and died before consuming it (the
        // status still says confirmed, unannounced): the hold runs out after QR_EXCHANGE_LEASE_MS,
        // then the browser's retry signs in.
        held++;
        const deadline = Date.now() + QR_EXCHANGE_LEASE_MS + 10_000;
        let retried = first;
        while (retried.status !== 200 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 500));
          retried = await exchange(t, id, pollToken);
        }
        expect(retried.status).toBe(200);
      } else {
        expect(first.status).toBe(200);
      }
      workers[flow.worker]!.exchanged++;
    }
    const perWorker = await Promise.all(
      workers.map(async (w) => ({ exchanged: w.exchanged, sessions: await webQrSessions(w.userId) })),
    );
    console.log(
      `Redis restart: logins interrupted ${flows.filter((f) => f.qr && f.lastOk !== 'exchange').length}, lost (consumed but answered 503) ${lost}, held by an exchange the outage cut short ${held}, doubled ${perWorker.reduce((n, w) => n + Math.max(0, w.sessions - w.exchanged), 0)}`,
    );
    // One web session per successful exchange, never more, never fewer. (A login whose
    // consuming write Redis made just before dying, its answer lost, stays consumed:
    // counted as lost above, for the record; the browser starts a new QR.)
    expect(perWorker.map((w) => w.sessions)).toEqual(perWorker.map((w) => w.exchanged));
  }, 300_000);
});

/**
 * A server process starting while Redis is down (a rolling deploy during a
 * Redis restart): it must come up anyway, say it is not ready, answer 503, and
 * serve as soon as Redis answers (the built server, `dist/src/main.js`, with
 * the embedded database in a temporary folder and a private redis-server).
 */
describeWith(NEED, 'a server process started while Redis is down (built server, private redis-server)', () => {
  let redis: RedisServer | undefined;
  let dir: string | undefined;

  beforeAll(async () => {
    assertBuilt();
    redis = await RedisServer.start();
    await redis.stop(); // its port is known and nothing answers there
    dir = await mkdtemp(join(tmpdir(), 'sg-fault-redis-start-'));
  }, SLOW);

  afterAll(async () => {
    await stopStartedServers();
    await redis?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, SLOW);

  const alive = async (server: ServerProcess, url: string) => {
    try {
      await waitForOk(url, 60_000, server.exited);
    } catch (error) {
      throw new Error(
        `${(error as Error).message} (exit code ${server.child.exitCode})\nstderr:\n${server.stderr().slice(-3_000)}`,
        { cause: error },
      );
    }
  };

  it(
    'stays up while Redis is down (not ready, naming the store; QR requests 503 store.unavailable), then serves QR logins once Redis is up',
    async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const server = startServer({
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATA_DIR: join(dir!, 'data'),
        REDIS_URL: redis!.url,
        STORE_KEY_PREFIX: `frs${randomBytes(4).toString('hex')}:`,
        RATE_LIMITS: 'off',
        LOG_LEVEL: 'warn',
      });
      await alive(server, `${url}/health/live`);
      // A few reconnect rounds with Redis still down: the process must still be there.
      await sleep(3_000);
      expect({
        exitCode: server.child.exitCode,
        signal: server.child.signalCode,
        stderr: server.stderr().slice(-1_500),
      }).toEqual({ exitCode: null, signal: null, stderr: '' });
      const ready = await request(url).get('/health/ready');
      expect({ status: ready.status, code: ready.body.code, details: ready.body.details }).toEqual({
        status: 503,
        code: 'store.unavailable',
        details: [{ path: 'store', message: 'down' }],
      });
      const create = await request(url).post('/api/v1/qr-sessions').send({});
      expect({ status: create.status, code: create.body.code }).toEqual({ status: 503, code: 'store.unavailable' });

      await redis!.start();
      const readyMs = await waitForOk(`${url}/health/ready`, 60_000, server.exited);
      console.log(`Server started while Redis was down: ready ${ms(readyMs)} ms after Redis came up`);
      await request(url).post('/api/v1/qr-sessions').send({}).expect(201);
    },
    SLOW,
  );
});
