import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { benchPhone, benchServices } from './bench-services.js';
import express from 'express';
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { QrEventsHub } from '../../src/qr-login/qr-events.hub.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { createQr, status } from '../support/qr.js';
import { assertBuilt, freePort, startServer, waitForOk, type ServerProcess } from '../support/server-process.js';
import { testConfig } from '../support/test-config.js';
import { fmt, gcFunction, median, print, quantile, sleep, verdict } from './bench-report.js';

/**
 * `npm run bench` (not part of `npm test`): the QR login's performance targets
 * of issue 4, each printed as a ratio to a baseline measured in the same run.
 *
 * 1. Status poll throughput (plain GET with X-Poll-Token on a pending session)
 *    of the built server (`node dist/src/main.js`, as users run it) ÷ a bare
 *    Express 5 JSON route in a process of its own (bare-express.mjs) (target
 *    ≥ 0.5). POLL_CONCURRENCY keep-alive connections, ROUNDS × ROUND_MS
 *    per route, interleaved A,B,B,A… so drift hits both.
 * 2. Complete logins (create → scan → confirm → exchange) on the built server:
 *    LOGIN_CONCURRENCY flows, each with its own user and phone (device key,
 *    signed in beforehand; with the embedded database, phones of the demo user), interleaved with the bare route at the same concurrency;
 *    logins/s, requests/s (4 per login) ÷ the bare route's (target ≥ 0.25),
 *    p50/p99 of each step.
 * 3. Memory per waiting long poll: LONG_POLLS concurrent
 *    `waitSeconds=30&afterVersion=<current>` requests over LONG_POLL_SESSIONS
 *    pending sessions, opened from a child process (qr-login.long-polls.mjs:
 *    neither its sockets' memory nor their file descriptors count against the
 *    server process); heapUsed + external of the server's isolate after a
 *    forced GC, before and once `QrEventsHub.waiting` says all of them wait
 *    (this one on an app in the bench's own process, to read its heap)
 *    (target ≤ 16 KB each). For scale, the same for a bare Express route that
 *    holds its requests open. Then the clients hang up, and every waiter must
 *    be released.
 *
 * The load of 1 and 2 comes from a worker thread (qr-login.load.mjs), so the
 * client does not share the server's event loop. Real Postgres and Redis when
 * TEST_DATABASE_URL and TEST_REDIS_URL are set, embedded otherwise.
 */

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const POLL_CONCURRENCY = env('BENCH_CONCURRENCY', 16);
const ROUND_MS = env('BENCH_ROUND_MS', 2_000);
const ROUNDS = env('BENCH_ROUNDS', 3);
const LOGIN_CONCURRENCY = env('BENCH_LOGIN_CONCURRENCY', 8);
const LOGIN_ROUND_MS = env('BENCH_LOGIN_ROUND_MS', 4_000);
const LOGIN_ROUNDS = env('BENCH_LOGIN_ROUNDS', 2);
const LONG_POLLS = env('BENCH_LONG_POLLS', 10_000);
const LONG_POLL_SESSIONS = env('BENCH_LONG_POLL_SESSIONS', 250);

const TARGET = { poll: 0.5, login: 0.25, bytesPerWait: 16 * 1024 };

const LOAD_WORKER = new URL('./qr-login.load.mjs', import.meta.url);
const LONG_POLL_CLIENT = new URL('./qr-login.long-polls.mjs', import.meta.url);

interface GetResult {
  ok: number;
  failed: number;
  firstFailure?: string;
  elapsedMs: number;
}
type Step = 'create' | 'scan' | 'confirm' | 'exchange';
interface LoginResult {
  logins: number;
  failed: number;
  firstFailure?: string;
  elapsedMs: number;
  steps: Record<Step, number[]>;
}

function runWorker<T>(workerData: object): Promise<T> {
  return new Promise((done, fail) => {
    const worker = new Worker(LOAD_WORKER, { workerData });
    worker.once('message', (result: T) => done(result));
    worker.once('error', fail);
  });
}
const getLoad = (url: string, path: string, headers: Record<string, string>, concurrency: number, durationMs: number) =>
  runWorker<GetResult>({ mode: 'get', url, path, headers, concurrency, durationMs });

/** The soft limit on open files of this process (a child inherits it). */
function openFileLimit(): number {
  try {
    const out = execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return out === 'unlimited' ? Infinity : Number(out);
  } catch {
    return 1024;
  }
}

let t: TestApp;
/** Section 3's floor: a bare Express route in this process that holds requests open. */
let held: Server;
let heldUrl: string;
const bareHeld = new Set<express.Response>();
/** Sections 1 and 2: the built server and the bare Express baseline, each a process of its own. */
let server: ServerProcess | undefined;
let serverUrl: string;
let bare: ChildProcess | undefined;
let bareUrl: string;
let dataDir: string | undefined;
let cleanup: () => Promise<void> = async () => undefined;
let mode: string;
let real = false;
let child: ChildProcess | undefined;

beforeAll(async () => {
  assertBuilt();
  const backing = await benchServices();
  real = backing.real;
  const services = backing.env;
  cleanup = backing.cleanup;
  mode = real
    ? 'real Postgres + Redis'
    : 'embedded PGlite + in-process store (TEST_DATABASE_URL/TEST_REDIS_URL not set)';
  t = await createTestApp({ config: testConfig({ LOG_LEVEL: 'warn', RATE_LIMITS: 'off', ...services }) });

  // The server as users run it (`node dist/src/main.js`), on the same database
  // and store as `t` when they are real; on its own data folder (and demo user) when embedded.
  const port = String(await freePort());
  dataDir = real ? undefined : mkdtempSync(join(tmpdir(), 'scangate-bench-'));
  server = startServer(
    {
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: port,
      LOG_LEVEL: 'warn',
      RATE_LIMITS: 'off',
      ...(dataDir ? { DATA_DIR: dataDir, DEMO_USER: 'on' } : services),
    },
    process.cwd(),
    // e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server.
    process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [],
  );
  serverUrl = `http://127.0.0.1:${port}`;
  await waitForOk(`${serverUrl}/health/ready`, 30_000, server.exited);

  // The baseline: a bare Express 5 app with one JSON route, in a process of its own.
  const baseline = fork(new URL('./bare-express.mjs', import.meta.url), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  bare = baseline;
  bareUrl = await new Promise<string>((listening) =>
    baseline.once('message', (m: { port: number }) => listening(`http://127.0.0.1:${m.port}`)),
  );

  // The floor for section 3: a request held open, answered only when the client goes away.
  const app = express();
  app.get('/wait', (_req, res) => {
    bareHeld.add(res);
    res.once('close', () => bareHeld.delete(res));
  });
  held = await new Promise<Server>((listening) => {
    const listener = app.listen(0, '127.0.0.1', () => listening(listener));
  });
  heldUrl = `http://127.0.0.1:${(held.address() as { port: number }).port}`;
}, 60_000);

afterAll(async () => {
  child?.kill();
  bare?.kill();
  if (server) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  await new Promise((done) => (held ? held.close(done) : done(undefined)));
  await t?.close();
  await cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Phones (device key, mobile session) of distinct users on the spawned server; with the embedded database, devices of its demo user. */
async function phonesOnServer(count: number): Promise<Array<{ accessToken: string; privateKeyPem: string | Buffer }>> {
  const phones = [];
  for (let i = 0; i < count; i++) {
    const { accessToken, privateKey } = await benchPhone(t, serverUrl, dataDir);
    phones.push({ accessToken, privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) });
  }
  return phones;
}

it('QR login: status poll throughput, complete logins, memory per waiting long poll', async () => {
  print(`\nScanGate QR login bench: ${mode}`);

  // ── 1. Status poll throughput ÷ bare Express ───────────────────────────────
  const onServer = { url: serverUrl } as TestApp;
  const qr = await createQr(onServer);
  await status(onServer, qr.id, qr.pollToken).expect(200);
  const statusPath = `/api/v1/qr-sessions/${qr.id}`;
  const pollHeaders = { 'X-Poll-Token': qr.pollToken };
  await getLoad(bareUrl, '/x', {}, POLL_CONCURRENCY, 1_000); // warm-up, not counted
  await getLoad(serverUrl, statusPath, pollHeaders, POLL_CONCURRENCY, 1_000);

  const pollRates: { status: number[]; bare: number[] } = { status: [], bare: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (['status', 'bare'] as const) : (['bare', 'status'] as const);
    for (const which of order) {
      const result =
        which === 'bare'
          ? await getLoad(bareUrl, '/x', {}, POLL_CONCURRENCY, ROUND_MS)
          : await getLoad(serverUrl, statusPath, pollHeaders, POLL_CONCURRENCY, ROUND_MS);
      // A refused poll (404) answers fast: failures would flatter the figure.
      expect({ which, failed: result.failed, firstFailure: result.firstFailure }).toEqual({
        which,
        failed: 0,
        firstFailure: undefined,
      });
      pollRates[which].push((result.ok * 1000) / result.elapsedMs);
    }
  }
  const bareRate = median(pollRates.bare);
  const statusRate = median(pollRates.status);
  const pollRatio = statusRate / bareRate;
  print(
    `\n1. Status poll: ${POLL_CONCURRENCY} keep-alive connections, ${ROUNDS} × ${ROUND_MS} ms per route, interleaved`,
  );
  print(
    `  bare Express 5 JSON route ${fmt(bareRate).padStart(8)} req/s   (rounds: ${pollRates.bare.map((r) => fmt(r)).join(', ')})   = baseline 1.00`,
  );
  print(
    `  GET /qr-sessions/:id      ${fmt(statusRate).padStart(8)} req/s   (rounds: ${pollRates.status.map((r) => fmt(r)).join(', ')})`,
  );
  print(`  ratio ${fmt(pollRatio, 2)} (target ≥ ${TARGET.poll}): ${verdict(pollRatio >= TARGET.poll)}`);
  print(
    `  server time per poll ≈ ${fmt(1e6 / statusRate)} µs vs ${fmt(1e6 / bareRate)} µs for the bare route (1/rate)`,
  );

  // ── 2. Complete logins ─────────────────────────────────────────────────────
  // One user and one phone per flow: no per-user limit or device lock is shared.
  const phones = await phonesOnServer(LOGIN_CONCURRENCY);
  const loginLoad = (durationMs: number) =>
    runWorker<LoginResult>({ mode: 'login', url: serverUrl, phones, durationMs });
  const warm = await loginLoad(1_000); // warm-up, not counted
  expect({ failed: warm.failed, firstFailure: warm.firstFailure }).toEqual({ failed: 0, firstFailure: undefined });

  const steps: Record<Step, number[]> = { create: [], scan: [], confirm: [], exchange: [] };
  const loginRates: number[] = [];
  const bareRates: number[] = [];
  let logins = 0;
  let loginMs = 0;
  for (let round = 0; round < LOGIN_ROUNDS; round++) {
    const order = round % 2 === 0 ? (['login', 'bare'] as const) : (['bare', 'login'] as const);
    for (const which of order) {
      if (which === 'bare') {
        const result = await getLoad(bareUrl, '/x', {}, LOGIN_CONCURRENCY, ROUND_MS);
        expect(result.failed).toBe(0);
        bareRates.push((result.ok * 1000) / result.elapsedMs);
      } else {
        const result = await loginLoad(LOGIN_ROUND_MS);
        expect({ failed: result.failed, firstFailure: result.firstFailure }).toEqual({
          failed: 0,
          firstFailure: undefined,
        });
        logins += result.logins;
        loginMs += result.elapsedMs;
        loginRates.push((result.logins * 1000) / result.elapsedMs);
        for (const step of Object.keys(steps) as Step[]) steps[step].push(...result.steps[step]);
      }
    }
  }
  const loginsPerSecond = (logins * 1000) / loginMs;
  const bareLoginRate = median(bareRates);
  const loginRatio = (4 * loginsPerSecond) / bareLoginRate;
  print(
    `\n2. Complete logins: ${LOGIN_CONCURRENCY} concurrent flows (one user + phone each), ${LOGIN_ROUNDS} × ${LOGIN_ROUND_MS} ms, interleaved with the bare route`,
  );
  if (!real) print('  (embedded database and store: the target is set for real Postgres + Redis)');
  print(
    `  ${fmt(loginsPerSecond, 1)} logins/s (${logins} logins; rounds: ${loginRates.map((r) => fmt(r, 1)).join(', ')}) = ${fmt(4 * loginsPerSecond)} req/s`,
  );
  print(
    `  bare Express 5 JSON route at ${LOGIN_CONCURRENCY} connections: ${fmt(bareLoginRate)} req/s (rounds: ${bareRates.map((r) => fmt(r)).join(', ')})`,
  );
  print(`  ratio ${fmt(loginRatio, 2)} (target ≥ ${TARGET.login}): ${verdict(loginRatio >= TARGET.login)}`);
  for (const step of Object.keys(steps) as Step[]) {
    print(
      `  ${step.padEnd(9)} p50 ${fmt(median(steps[step]), 2).padStart(7)} ms   p99 ${fmt(quantile(steps[step], 0.99), 2).padStart(7)} ms`,
    );
  }

  // ── 3. Memory per waiting long poll ────────────────────────────────────────
  const hub = t.app.get(QrEventsHub);
  const gc = gcFunction();
  const limit = openFileLimit();
  // The server holds one descriptor per poll, plus its own (database, store, logs…).
  const polls = Math.min(LONG_POLLS, Math.max(0, limit - 500));
  const sessions: Array<Awaited<ReturnType<typeof createQr>>> = [];
  for (let i = 0; i < LONG_POLL_SESSIONS; i++) sessions.push(await createQr(t));
  const qrPolls = (count: number) =>
    Array.from({ length: count }, (_, i) => {
      const s = sessions[i % sessions.length]!;
      return {
        path: `/api/v1/qr-sessions/${s.id}?waitSeconds=30&afterVersion=${s.version}`,
        headers: { 'X-Poll-Token': s.pollToken },
      };
    });
  const barePolls = (count: number) => Array.from({ length: count }, () => ({ path: '/wait' }));

  const client = fork(LONG_POLL_CLIENT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child = client;
  const next = <T>(type: string) =>
    new Promise<T>((done, fail) => {
      const onMessage = (message: { type: string }) => {
        if (message.type !== type) return;
        client.off('message', onMessage);
        client.off('exit', onExit);
        done(message as T);
      };
      const onExit = (code: number) => fail(new Error(`long-poll client exited (${code}) before '${type}'`));
      client.on('message', onMessage);
      client.once('exit', onExit);
    });
  const waitFor = async (predicate: () => boolean, timeoutMs: number) => {
    const started = performance.now();
    while (!predicate() && performance.now() - started < timeoutMs) await sleep(20);
    return performance.now() - started;
  };
  const memory = async () => {
    for (let i = 0; i < 3; i++) {
      gc?.();
      await sleep(50);
    }
    const { heapUsed, external, rss } = process.memoryUsage();
    return { heapUsed, external, rss };
  };
  type Opened = { connected: number; errors: number; firstError?: string; elapsedMs: number };
  type Closed = { early: number; firstEarly?: string };
  await next('ready');

  /**
   * Opens `list` against `url`, a batch at a time, each batch once the server
   * counts the previous one as waiting; measures the server's memory before and
   * once all wait; then closes them and waits until the server let them go.
   */
  const holdAll = async (
    url: string,
    list: Array<{ path: string; headers?: Record<string, string> }>,
    waiting: () => number,
    measure: boolean,
  ) => {
    const port = Number(new URL(url).port);
    const base = waiting();
    const before = measure ? await memory() : undefined;
    let opened: Opened = { connected: 0, errors: 0, elapsedMs: 0 };
    const started = performance.now();
    for (let i = 0; i < list.length; i += 500) {
      const batch = list.slice(i, i + 500);
      client.send({ type: 'open', port, polls: batch, batch: 500 });
      opened = await next<Opened>('opened');
      await waitFor(() => waiting() >= base + i + batch.length, 10_000);
    }
    const openMs = performance.now() - started;
    const held = waiting() - base;
    const during = measure ? await memory() : undefined;
    client.send({ type: 'close' });
    const closed = await next<Closed>('closed');
    const releaseMs = await waitFor(() => waiting() === base, 10_000);
    const left = waiting() - base;
    await sleep(200);
    const perWait =
      before && during
        ? (during.heapUsed + during.external - before.heapUsed - before.external) / Math.max(1, held)
        : 0;
    const rssPerWait = before && during ? (during.rss - before.rss) / Math.max(1, held) : 0;
    return { ...opened, openMs, held, closed, releaseMs, left, perWait, rssPerWait, before, during };
  };

  const bareWaiting = () => bareHeld.size;
  const qrWaiting = () => hub.waiting;
  // Warm-up: both paths compiled and their lazy state created, not counted.
  await holdAll(heldUrl, barePolls(500), bareWaiting, false);
  await holdAll(t.url, qrPolls(500), qrWaiting, false);
  const floor = await holdAll(heldUrl, barePolls(polls), bareWaiting, true);
  const qrHeld = await holdAll(t.url, qrPolls(polls), qrWaiting, true);
  client.send({ type: 'exit' });
  child = undefined;

  const mb = (bytes: number) => fmt(bytes / 1024 / 1024, 1);
  print(
    `\n3. Long polls: ${fmt(polls)} × waitSeconds=30&afterVersion=<current> over ${sessions.length} pending sessions, opened from a child process`,
  );
  if (polls < LONG_POLLS) print(`  (only ${fmt(polls)} of ${fmt(LONG_POLLS)}: ulimit -n is ${limit} here)`);
  if (!gc) print('  (no forced GC available: run node with --expose-gc; figures are noisier)');
  print(
    `  ${fmt(qrHeld.connected)} connected and ${fmt(qrHeld.held)} waiting in QrEventsHub after ${fmt(qrHeld.openMs)} ms (${opened(qrHeld)})`,
  );
  const { before, during } = qrHeld;
  print(
    `  server heapUsed +${mb(during!.heapUsed - before!.heapUsed)} MB, external +${mb(during!.external - before!.external)} MB, RSS +${mb(during!.rss - before!.rss)} MB while they wait`,
  );
  print(
    `  ${fmt(qrHeld.perWait)} bytes (heapUsed + external) per waiting request (target ≤ ${fmt(TARGET.bytesPerWait)}): ${verdict(qrHeld.perWait <= TARGET.bytesPerWait)}; RSS ${fmt(qrHeld.rssPerWait)} bytes (informative: native buffers, allocator slack)`,
  );
  print(
    `  for scale: a bare Express 5 route holding ${fmt(floor.held)} requests open costs ${fmt(floor.perWait)} bytes each (RSS ${fmt(floor.rssPerWait)}): the app adds ${fmt(qrHeld.perWait - floor.perWait)}`,
  );
  print(
    `  after the clients went away: ${qrHeld.left === 0 ? `all released in ${fmt(qrHeld.releaseMs)} ms` : `${fmt(qrHeld.left)} still waiting after ${fmt(qrHeld.releaseMs)} ms`}; ${qrHeld.closed.early} answered early${qrHeld.closed.firstEarly ? ` (${qrHeld.closed.firstEarly})` : ''}\n`,
  );

  for (const run of [floor, qrHeld]) {
    expect({ errors: run.errors, held: run.held, early: run.closed.early, left: run.left }).toEqual({
      errors: 0,
      held: polls,
      early: 0,
      left: 0,
    });
  }
});

function opened(run: { held: number; openMs: number; errors: number; firstError?: string }): string {
  return `${fmt((run.held * 1000) / run.openMs)}/s; ${run.errors} errors${run.firstError ? `: ${run.firstError}` : ''}`;
}
