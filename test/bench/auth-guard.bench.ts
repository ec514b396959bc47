import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { benchServices } from './bench-services.js';
import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import request from 'supertest';
import { createUser, TEST_PASSWORD } from '../support/accounts.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { testConfig } from '../support/test-config.js';
import { GuardProbeController, PRINCIPAL_ROUTE, PUBLIC_ROUTE } from '../support/tokens.js';
import { fmt, median, print, quantile } from './bench-report.js';

/**
 * `npm run bench` (not part of `npm test`): what the global guard costs per
 * request, and what a password sign-in costs.
 *
 * - Throughput of an authenticated no-op route (`/test-guard/principal`: JWT
 *   verification + the revocation lookup in the store, nothing else) against
 *   its `@Public()` twin (`/test-guard/public`), with CONCURRENCY keep-alive
 *   connections for ROUND_MS each, interleaved A,B,A,B… so drift hits both.
 *   The load comes from a worker thread, so the client does not share the
 *   server's event loop.
 * - Login latency: median and p95 of LOGINS sequential password sign-ins
 *   (rate limits off), against one argon2id verification and one public
 *   request measured in the same run.
 *
 * Real Postgres and Redis when TEST_DATABASE_URL and TEST_REDIS_URL are set,
 * embedded otherwise. Figures are printed as ratios to the same run's baseline.
 */

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 3_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LOGINS = 30;

/** The load generator: CONCURRENCY loops of back-to-back GETs on keep-alive sockets for `durationMs`. */
const LOAD_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { url, path, headers, concurrency, durationMs } = workerData;
const { hostname, port } = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
let ok = 0, failed = 0, firstFailure;
const started = performance.now();
const deadline = started + durationMs;
function one() {
  return new Promise((done) => {
    const req = http.request({ hostname, port, path, headers, agent }, (res) => {
      if (res.statusCode === 200) ok++; else { failed++; firstFailure ??= res.statusCode; }
      res.resume();
      res.on('end', done);
    });
    req.on('error', (e) => { failed++; firstFailure ??= e.message; done(); });
    req.end();
  });
}
async function loop() { while (performance.now() < deadline) await one(); }
Promise.all(Array.from({ length: concurrency }, loop)).then(() => {
  const elapsedMs = performance.now() - started;
  agent.destroy();
  parentPort.postMessage({ ok, failed, firstFailure, elapsedMs });
});
`;

interface LoadResult {
  ok: number;
  failed: number;
  firstFailure?: unknown;
  elapsedMs: number;
}

function load(url: string, path: string, headers: Record<string, string>, durationMs: number): Promise<LoadResult> {
  return new Promise((done, fail) => {
    const worker = new Worker(LOAD_WORKER, {
      eval: true,
      workerData: { url, path, headers, concurrency: CONCURRENCY, durationMs },
    });
    worker.once('message', (result: LoadResult) => done(result));
    worker.once('error', fail);
  });
}

let t: TestApp;
let cleanup: () => Promise<void> = async () => undefined;
let mode: string;

beforeAll(async () => {
  const services = await benchServices();
  const { real, env } = services;
  cleanup = services.cleanup;
  mode = real ? 'real Postgres + Redis' : 'embedded PGlite + in-process store';
  t = await createTestApp({
    config: testConfig({ LOG_LEVEL: 'warn', RATE_LIMITS: 'off', ...env }),
    controllers: [GuardProbeController],
  });
}, 60_000);

afterAll(async () => {
  await t?.close();
  await cleanup();
});

it('auth guard throughput and login latency', async () => {
  const { login } = await createUser(t);
  const signIn = () =>
    request(t.url)
      .post('/api/v1/auth/login')
      .send({
        login,
        password: TEST_PASSWORD,
        device: { id: `bench-${randomBytes(4).toString('hex')}`, name: 'Bench', platform: 'android' },
      })
      .expect(200);
  const token = (await signIn()).body.accessToken as string;
  const auth = { Authorization: `Bearer ${token}` };
  await request(t.url).get(PRINCIPAL_ROUTE).set(auth).expect(200);

  print(
    `\nScanGate auth bench: ${mode}; ${CONCURRENCY} keep-alive connections, ${ROUNDS} × ${ROUND_MS} ms per route, interleaved`,
  );

  // Warm-up (JIT, sockets, key cache), not counted.
  await load(t.url, PUBLIC_ROUTE, {}, 1_000);
  await load(t.url, PRINCIPAL_ROUTE, auth, 1_000);

  const rates: { authenticated: number[]; public: number[] } = { authenticated: [], public: [] };
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which goes first, so neither always runs on a warmer process.
    const order = round % 2 === 0 ? (['authenticated', 'public'] as const) : (['public', 'authenticated'] as const);
    for (const which of order) {
      const result = await load(
        t.url,
        which === 'public' ? PUBLIC_ROUTE : PRINCIPAL_ROUTE,
        which === 'public' ? {} : auth,
        ROUND_MS,
      );
      // A refused token answers fast: failures would make the guard look cheap.
      expect({ which, failed: result.failed, firstFailure: result.firstFailure }).toEqual({
        which,
        failed: 0,
        firstFailure: undefined,
      });
      rates[which].push((result.ok * 1000) / result.elapsedMs);
    }
  }
  const authRate = median(rates.authenticated);
  const publicRate = median(rates.public);
  print(
    `  public no-op route        ${fmt(publicRate).padStart(8)} req/s   (rounds: ${rates.public.map((r) => fmt(r)).join(', ')})   = baseline 1.00`,
  );
  print(
    `  authenticated no-op route ${fmt(authRate).padStart(8)} req/s   (rounds: ${rates.authenticated.map((r) => fmt(r)).join(', ')})   = ${fmt(authRate / publicRate, 2)} × baseline`,
  );
  print(
    `  guard cost per request    ≈ ${fmt((1000 / authRate - 1000 / publicRate) * 1000, 0)} µs of server time (1/rate difference)`,
  );

  // Baselines for a sign-in: one public request, and one argon2id verification (the hasher's parameters).
  const publicLatency: number[] = [];
  for (let i = 0; i < 100; i++) {
    const started = performance.now();
    await request(t.url).get(PUBLIC_ROUTE).expect(200);
    publicLatency.push(performance.now() - started);
  }
  const stored = await hash(TEST_PASSWORD, {
    algorithm: 2 as Algorithm,
    memoryCost: 19_456,
    timeCost: 2,
    parallelism: 1,
  });
  const argon: number[] = [];
  for (let i = 0; i < 10; i++) {
    const started = performance.now();
    await verify(stored, TEST_PASSWORD);
    argon.push(performance.now() - started);
  }
  const logins: number[] = [];
  for (let i = 0; i < LOGINS; i++) {
    const started = performance.now();
    await signIn();
    logins.push(performance.now() - started);
  }
  const loginMedian = median(logins);
  print(
    `  login (password, mobile)  median ${fmt(loginMedian, 1)} ms, p95 ${fmt(quantile(logins, 0.95), 1)} ms over ${LOGINS} sequential sign-ins`,
  );
  print(
    `      = ${fmt(loginMedian / median(argon), 2)} × one argon2id verify (${fmt(median(argon), 1)} ms), ${fmt(loginMedian / median(publicLatency), 1)} × one public request (${fmt(median(publicLatency), 2)} ms)`,
  );

  // An unknown login burns a dummy argon2id verify: it must cost what a wrong password does.
  const refused = async (body: object) => {
    const started = performance.now();
    await request(t.url).post('/api/v1/auth/login').send(body).expect(401);
    return performance.now() - started;
  };
  const unknownBody = { login: `ghost-${randomBytes(4).toString('hex')}`, password: 'some wrong password' };
  const wrongBody = { login, password: 'some wrong password' };
  const unknown: number[] = [];
  const wrong: number[] = [];
  for (let i = 0; i < 2 * LOGINS; i++) {
    // Alternate the order so drift and caching hit both alike.
    const [first, second] = i % 2 ? [unknownBody, wrongBody] : [wrongBody, unknownBody];
    const a = await refused(first);
    const b = await refused(second);
    (first === unknownBody ? unknown : wrong).push(a);
    (second === unknownBody ? unknown : wrong).push(b);
  }
  print(
    `  refused sign-in, unknown login  median ${fmt(median(unknown), 1)} ms = ${fmt(median(unknown) / median(wrong), 2)} × a wrong password's (${fmt(median(wrong), 1)} ms, baseline 1.00)\n`,
  );
});
