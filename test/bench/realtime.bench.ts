import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server as IoServer } from 'socket.io';
import { io, type Socket } from 'socket.io-client';
import { QrLoginService } from '../../src/qr-login/qr-login.service.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { assertBuilt, freePort, startServer, waitForOk, type ServerProcess } from '../support/server-process.js';
import { testConfig } from '../support/test-config.js';
import { benchPhone, benchServices } from './bench-services.js';
import { fmt, gcFunction, print, quantile, sleep, verdict } from './bench-report.js';

/**
 * `npm run bench`: the real-time targets of issue 5, each a ratio to a
 * baseline measured in the same run.
 *
 * 1. Confirm → `qr.status` at the browser, outside in: the time from sending
 *    `POST …/confirm` to the browser's socket receiving `confirmed`, over
 *    LOGINS logins, one at a time, on the built server (`node dist/src/main.js`);
 *    next to the same shape on a bare Express 5 + Socket.IO process (a POST
 *    whose handler emits to the socket's room). p99 ÷ bare p99 ≤ 3 on one
 *    instance; ≤ 5 with the browser on instance A and the phone on instance B
 *    (two processes, real Postgres and Redis only).
 * 2. Memory of SOCKETS waiting browser sockets (one QR session each) on the
 *    app, ÷ a bare Socket.IO server holding as many: heapUsed + external after
 *    a forced GC, before and after, both in this process; the clients live in
 *    a child process (realtime.clients.mjs). Target ≤ 1.5.
 * 3. Server CPU of IDLE_BROWSERS browsers waiting on sockets for CPU_WINDOW_MS,
 *    ÷ the same browsers polling the status once a second for as long
 *    (process CPU time of this process, which serves both; clients in the
 *    child). Target ≤ 0.05.
 */

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const LOGINS = env('BENCH_RT_LOGINS', 1_000);
const SOCKETS = env('BENCH_RT_SOCKETS', 10_000);
const IDLE_BROWSERS = env('BENCH_RT_IDLE_BROWSERS', 2_000);
const CPU_WINDOW_MS = env('BENCH_RT_CPU_WINDOW_MS', 10_000);
const TARGET = { oneInstance: 3, twoInstances: 5, memory: 1.5, cpu: 0.05 };

const CLIENTS = new URL('./realtime.clients.mjs', import.meta.url);
const BARE = new URL('./bare-socket-io.mjs', import.meta.url);
const BROWSER_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36';

const summary = (xs: number[]) => ({ p50: quantile(xs, 0.5), p90: quantile(xs, 0.9), p99: quantile(xs, 0.99) });
const line = (s: { p50: number; p90: number; p99: number }) =>
  `p50 ${fmt(s.p50, 2).padStart(6)} ms   p90 ${fmt(s.p90, 2).padStart(6)} ms   p99 ${fmt(s.p99, 2).padStart(6)} ms`;

async function post(
  url: string,
  path: string,
  headers: Record<string, string>,
  body: object,
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

/** A socket.io-client socket on `/qr` that resolves `next(status)` when that status arrives. */
async function browserSocket(
  url: string,
  auth: object,
): Promise<{ socket: Socket; next: (status: string) => Promise<void> }> {
  const socket = io(`${url}/qr`, {
    path: '/socket.io',
    auth,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  const waiting = new Map<string, () => void>();
  const seen = new Set<string>();
  socket.on('qr.status', (view: { status: string }) => {
    seen.add(view.status);
    waiting.get(view.status)?.();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return {
    socket,
    next: (status) =>
      seen.has(status)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no ${status} within 5 s`)), 5_000);
            waiting.set(status, () => {
              clearTimeout(timer);
              resolve();
            });
          }),
  };
}

let t: TestApp;
const servers: ServerProcess[] = [];
const urls: string[] = [];
let bare: ChildProcess | undefined;
let bareUrl: string;
let child: ChildProcess | undefined;
let dataDir: string | undefined;
let real = false;
let cleanup: () => Promise<void> = async () => undefined;

beforeAll(async () => {
  assertBuilt();
  const backing = await benchServices();
  real = backing.real;
  cleanup = backing.cleanup;
  const common = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    RATE_LIMITS: 'off',
    SOCKET_MAX_PER_QR: '100',
  };
  t = await createTestApp({ config: testConfig({ ...common, ...backing.env }) });
  // The servers as users run them: two on the shared Postgres and Redis, or one on its own data folder.
  dataDir = real ? undefined : mkdtempSync(join(tmpdir(), 'scangate-rtbench-'));
  const count = real ? 2 : 1;
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    servers.push(
      startServer({
        ...common,
        PORT: String(port),
        ...(dataDir ? { DATA_DIR: dataDir, DEMO_USER: 'on' } : backing.env),
      }),
    );
    urls.push(`http://127.0.0.1:${port}`);
  }
  await Promise.all(urls.map((url, i) => waitForOk(`${url}/health/ready`, 30_000, servers[i]!.exited)));
  const baseline = fork(BARE, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  bare = baseline;
  bareUrl = await new Promise<string>((listening) =>
    baseline.once('message', (m: { port: number }) => listening(`http://127.0.0.1:${m.port}`)),
  );
}, 90_000);

afterAll(async () => {
  child?.kill();
  bare?.kill();
  for (const server of servers) server.child.kill('SIGTERM');
  await Promise.all(servers.map((s) => s.exited));
  await t?.close();
  await cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** LOGINS times: browser socket on `browserUrl`, phone on `phoneUrl`; the confirm → `confirmed` latency of each. */
async function confirmLatencies(browserUrl: string, phoneUrl: string, count: number): Promise<number[]> {
  const phone = await benchPhone(t, phoneUrl, dataDir);
  const bearer = { Authorization: `Bearer ${phone.accessToken}` };
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const created = await post(browserUrl, '/api/v1/qr-sessions', { 'User-Agent': BROWSER_UA }, {});
    const qr = JSON.parse(created.text) as { id: string; pollToken: string; matchCode?: string };
    const browser = await browserSocket(browserUrl, { id: qr.id, pollToken: qr.pollToken });
    try {
      await browser.next('pending');
      const scanned = await post(phoneUrl, `/api/v1/qr-sessions/${qr.id}/scan`, bearer, {});
      if (scanned.status !== 200) throw new Error(`scan: ${scanned.status} ${scanned.text}`);
      await browser.next('scanned');
      const signature = sign('sha256', Buffer.from(`scangate:confirm:${qr.id}:${qr.matchCode ?? ''}`), {
        key: phone.privateKey,
        dsaEncoding: 'ieee-p1363',
      }).toString('base64url');
      const t0 = performance.now();
      const arrived = browser.next('confirmed');
      const confirmed = await post(
        phoneUrl,
        `/api/v1/qr-sessions/${qr.id}/confirm`,
        { ...bearer, 'X-Device-Signature': signature },
        qr.matchCode ? { matchCode: qr.matchCode } : {},
      );
      if (confirmed.status !== 200) throw new Error(`confirm: ${confirmed.status} ${confirmed.text}`);
      await arrived;
      out.push(performance.now() - t0);
    } finally {
      browser.socket.close();
    }
  }
  return out;
}

/** The same shape on the bare process: socket joins a room, a POST emits to it. */
async function bareLatencies(count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const id = randomBytes(16).toString('base64url');
    const browser = await browserSocket(bareUrl, { id });
    try {
      await browser.next('scanned');
      const t0 = performance.now();
      const arrived = browser.next('confirmed');
      await post(bareUrl, `/emit/${id}`, {}, {});
      await arrived;
      out.push(performance.now() - t0);
    } finally {
      browser.socket.close();
    }
  }
  return out;
}

it('real time: confirm → browser latency, memory per waiting socket, CPU of waiting sockets vs polling', async () => {
  print(
    `\nScanGate real-time bench: ${real ? 'real Postgres + Redis' : 'embedded PGlite + in-process store (TEST_DATABASE_URL/TEST_REDIS_URL not set)'}`,
  );

  // ── 1. Confirm → qr.status latency ─────────────────────────────────────────
  await bareLatencies(50); // warm-up, not counted
  await confirmLatencies(urls[0]!, urls[0]!, 50);
  const bareRun = summary(await bareLatencies(LOGINS));
  const one = summary(await confirmLatencies(urls[0]!, urls[0]!, LOGINS));
  print(
    `\n1. Confirm → qr.status at the browser, ${fmt(LOGINS)} logins one at a time (outside in: POST sent → socket event received)`,
  );
  print(`  bare Express 5 + Socket.IO (POST → emit to room)   ${line(bareRun)}   = baseline`);
  print(`  one instance (browser and phone on A)              ${line(one)}`);
  print(
    `  p99 ratio ${fmt(one.p99 / bareRun.p99, 2)} (target ≤ ${TARGET.oneInstance}): ${verdict(one.p99 / bareRun.p99 <= TARGET.oneInstance)}`,
  );
  if (urls.length > 1) {
    await confirmLatencies(urls[0]!, urls[1]!, 50);
    const two = summary(await confirmLatencies(urls[0]!, urls[1]!, LOGINS));
    print(`  two instances (browser on A, phone on B, Redis)    ${line(two)}`);
    print(
      `  p99 ratio ${fmt(two.p99 / bareRun.p99, 2)} (target ≤ ${TARGET.twoInstances}): ${verdict(two.p99 / bareRun.p99 <= TARGET.twoInstances)}`,
    );
  } else {
    print('  two instances: needs real Postgres and Redis (TEST_DATABASE_URL, TEST_REDIS_URL)');
  }

  // ── 2 and 3: sockets held by this process ──────────────────────────────────
  const clients = fork(CLIENTS, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child = clients;
  const exited = new Promise<never>((_, fail) =>
    clients.once('exit', (code) => fail(new Error(`the client process exited (${code})`))),
  );
  exited.catch(() => undefined);
  const next = <T>(type: string) =>
    Promise.race([
      exited,
      new Promise<T>((done) => {
        const onMessage = (message: { type: string } | string) => {
          if ((typeof message === 'string' ? message : message.type) !== type) return;
          clients.off('message', onMessage);
          done(message as T);
        };
        clients.on('message', onMessage);
      }),
    ]);
  await next('ready');
  type Opened = { connected: number; errors: number; firstError?: string; elapsedMs: number };
  const gc = gcFunction();
  const memory = async () => {
    for (let i = 0; i < 3; i++) {
      gc?.();
      await sleep(50);
    }
    const { heapUsed, external } = process.memoryUsage();
    return heapUsed + external;
  };
  const qr = t.app.get(QrLoginService);
  const sessions = async (count: number) => {
    const out: Array<{ id: string; pollToken: string }> = [];
    for (let i = 0; i < count; i++) {
      const { id, pollToken } = await qr.create(undefined, { ip: '198.51.100.7', userAgent: BROWSER_UA });
      out.push({ id, pollToken });
    }
    return out;
  };

  // The bare server for scale: Socket.IO on its own HTTP server, same namespace behaviour.
  const bareHttp: HttpServer = createServer();
  const bareIo = new IoServer(bareHttp, { path: '/socket.io', serveClient: false });
  bareIo.of('/qr').on('connection', (socket) => {
    const id = String((socket.handshake.auth as { id?: string }).id ?? '');
    void socket.join(id);
    socket.emit('qr.status', { id, status: 'pending', version: 1, expiresAt: new Date().toISOString() });
  });
  await new Promise<void>((r) => bareHttp.listen(0, '127.0.0.1', r));
  const bareLocal = `http://127.0.0.1:${(bareHttp.address() as { port: number }).port}`;

  const hold = async (url: string, auths: object[]) => {
    const before = await memory();
    clients.send({ type: 'sockets', url, namespace: '/qr', auths, batch: 200 });
    const opened = await next<Opened>('opened');
    const during = await memory();
    return { opened, perSocket: (during - before) / Math.max(1, opened.connected) };
  };
  const release = async () => {
    clients.send({ type: 'close' });
    await next('closed');
    await sleep(500);
  };

  // Warm-up of both paths, then the measurement.
  await hold(
    bareLocal,
    Array.from({ length: 200 }, () => ({ id: randomBytes(16).toString('base64url') })),
  );
  await release();
  await hold(t.url, await sessions(200));
  await release();
  const bareHeld = await hold(
    bareLocal,
    Array.from({ length: SOCKETS }, () => ({ id: randomBytes(16).toString('base64url') })),
  );
  await release();
  const appSessions = await sessions(SOCKETS);
  const appHeld = await hold(t.url, appSessions);
  const memoryRatio = appHeld.perSocket / bareHeld.perSocket;
  print(
    `\n2. Memory: ${fmt(SOCKETS)} waiting browser sockets (websocket, one QR session each), heapUsed + external after GC`,
  );
  if (!gc) print('  (no forced GC available: figures are noisier)');
  print(
    `  bare Socket.IO server   ${fmt(bareHeld.perSocket).padStart(7)} bytes per socket (${fmt(bareHeld.opened.connected)} connected in ${fmt(bareHeld.opened.elapsedMs)} ms)   = baseline`,
  );
  print(
    `  ScanGate /qr            ${fmt(appHeld.perSocket).padStart(7)} bytes per socket (${fmt(appHeld.opened.connected)} connected in ${fmt(appHeld.opened.elapsedMs)} ms, ${appHeld.opened.errors} errors${appHeld.opened.firstError ? `: ${appHeld.opened.firstError}` : ''})`,
  );
  print(`  ratio ${fmt(memoryRatio, 2)} (target ≤ ${TARGET.memory}): ${verdict(memoryRatio <= TARGET.memory)}`);
  for (const run of [bareHeld, appHeld])
    expect({ errors: run.opened.errors, firstError: run.opened.firstError }).toEqual({
      errors: 0,
      firstError: undefined,
    });

  // ── 3. CPU: IDLE_BROWSERS waiting on sockets vs polling once a second ──────
  await release();
  const idle = appSessions.slice(0, IDLE_BROWSERS);
  clients.send({ type: 'sockets', url: t.url, namespace: '/qr', auths: idle, batch: 200 });
  await next<Opened>('opened');
  await sleep(1_000);
  const socketCpu0 = process.cpuUsage();
  await sleep(CPU_WINDOW_MS);
  const socketCpu = process.cpuUsage(socketCpu0);
  await release();
  const polls = idle.map((s) => ({ path: `/api/v1/qr-sessions/${s.id}`, headers: { 'X-Poll-Token': s.pollToken } }));
  const pollCpu0 = process.cpuUsage();
  clients.send({ type: 'poll', url: t.url, polls, intervalMs: 1_000, durationMs: CPU_WINDOW_MS });
  const polled = await next<{ ok: number; failed: number; firstFailure?: string }>('polled');
  const pollCpu = process.cpuUsage(pollCpu0);
  const ms = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
  const cpuRatio = ms(socketCpu) / ms(pollCpu);
  print(`\n3. Server CPU over ${fmt(CPU_WINDOW_MS / 1000)} s for ${fmt(IDLE_BROWSERS)} browsers`);
  print(
    `  polling the status once a second   ${fmt(ms(pollCpu)).padStart(6)} ms CPU (${fmt(polled.ok)} polls answered, ${polled.failed} failed)   = baseline`,
  );
  print(
    `  waiting on sockets                 ${fmt(ms(socketCpu)).padStart(6)} ms CPU (heartbeats only: a ping every ${fmt(20)} s)`,
  );
  print(`  ratio ${fmt(cpuRatio, 3)} (target ≤ ${TARGET.cpu}): ${verdict(cpuRatio <= TARGET.cpu)}\n`);
  expect(polled.failed).toBe(0);

  clients.send({ type: 'exit' });
  child = undefined;
  await new Promise<void>((r) => bareIo.close(() => r()));
}, 600_000);
