import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import {
  describeReport,
  loginSeed,
  preparePhones,
  runConcurrentLogins,
  type ConcurrentLoginsReport,
  type LoginPhone,
} from '../support/concurrent-logins.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import {
  assertBuilt,
  freePort,
  startServer,
  stopStartedServers,
  waitForOk,
  type ServerProcess,
} from '../support/server-process.js';
import { describeWith, REAL_SERVICES_NEED, realBackend } from '../support/services.js';
import { testConfig } from '../support/test-config.js';
import { fmt, print } from './bench-report.js';

/**
 * `npm run bench` (not part of `npm test`): 2,000 complete QR logins at once
 * (create → scan → device-signed confirm → exchange) over two instances of
 * the built server (`node dist/src/main.js`, two processes: one core each on
 * a 2-core machine) on one real Postgres and one real Redis, each step sent
 * to either instance at random (seeded: CONCURRENT_LOGINS_SEED replays a
 * plan). Every login must end in exactly one web session, of the user whose
 * phone approved it: lost 0, doubled 0, no 5xx, and each QR transition
 * audited exactly once. Figures are printed; throughput is not a target here.
 *
 * The load comes from this process (the jest worker); the users are made by
 * an in-process app on the same database, closed before the load starts.
 * BENCH_CONCURRENT_LOGINS (2000), BENCH_CONCURRENT_IN_FLIGHT (all at once),
 * BENCH_CONCURRENT_USERS (25, two phones each) change the size;
 * BENCH_SERVER_LOG_DIR=<dir> keeps each server's whole log there.
 */
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const LOGINS = env('BENCH_CONCURRENT_LOGINS', 2_000);
const IN_FLIGHT = env('BENCH_CONCURRENT_IN_FLIGHT', LOGINS);
const USERS = env('BENCH_CONCURRENT_USERS', 25);
const PHONES_PER_USER = 2;

describeWith(REAL_SERVICES_NEED, 'concurrent QR logins over two server processes', () => {
  let backend: Awaited<ReturnType<typeof realBackend>> | undefined;
  let seedApp: TestApp | undefined;
  let db: DataSource | undefined;
  const servers: ServerProcess[] = [];
  let urls: [string, string];
  let phones: LoginPhone[];

  beforeAll(async () => {
    assertBuilt();
    backend = await realBackend('sgbench-conc-');
    const serverEnv = {
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...backend.env,
      // One public origin for both, as behind a front: it is the tokens' issuer (by default it
      // would be http://localhost:<PORT>, and each instance would refuse the other's tokens).
      PUBLIC_URL: 'http://localhost:3000',
      RATE_LIMITS: 'off',
      // Generous: slowness on a busy machine must not turn into expiry or store time-outs.
      QR_TTL_SECONDS: '300',
      STORE_TIMEOUT_MS: '1000',
    };
    const ports = [await freePort(), await freePort()];
    for (const port of ports) servers.push(startServer({ ...serverEnv, PORT: String(port) }));
    urls = [`http://127.0.0.1:${ports[0]}`, `http://127.0.0.1:${ports[1]}`];
    // Started together: migrations and the first signing key are made once, under locks.
    await Promise.all(servers.map((s, i) => waitForOk(`${urls[i]}/health/ready`, 60_000, s.exited)));

    // Users through an in-process app on the same database (argon2), phones signed in over HTTP on A and B.
    seedApp = await createTestApp({
      config: testConfig({ LOG_LEVEL: 'warn', ...backend.env, PUBLIC_URL: serverEnv.PUBLIC_URL, RATE_LIMITS: 'off' }),
    });
    phones = await preparePhones(seedApp, urls, USERS, PHONES_PER_USER);
    await seedApp.close();
    seedApp = undefined;

    db = await new DataSource({ type: 'postgres', url: backend.env.DATABASE_URL, poolSize: 2 }).initialize();
  }, 180_000);

  afterAll(async () => {
    await seedApp?.close().catch(() => undefined);
    for (const s of servers) s.child.kill('SIGTERM');
    const stopped = await Promise.race([
      Promise.all(servers.map((s) => s.exited)).then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 15_000).unref()),
    ]);
    if (!stopped) await stopStartedServers();
    await db?.destroy().catch(() => undefined);
    await backend?.dispose();
  }, 60_000);

  /** The event-loop delay figures of each server's `/metrics` (prom-client resets them at each scrape). */
  const eventLoopLag = () =>
    Promise.all(
      urls.map(async (url) => {
        const text = await (await fetch(`${url}/metrics`)).text();
        const value = (name: string) =>
          Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)`, 'm').exec(text)?.[1] ?? NaN) * 1000;
        return { max: value('nodejs_eventloop_lag_max_seconds'), p99: value('nodejs_eventloop_lag_p99_seconds') };
      }),
    );

  it(`${fmt(LOGINS)} concurrent logins over two server processes: each ends in exactly one web session of the approving phone's user, lost 0, doubled 0, no 5xx, each transition audited once`, async () => {
    await eventLoopLag(); // resets them
    const report: ConcurrentLoginsReport = await runConcurrentLogins({
      urls,
      phones,
      logins: LOGINS,
      concurrency: IN_FLIGHT,
      seed: loginSeed(),
      db: db!,
      requestTimeoutMs: 120_000,
    });
    // Both servers must have lived through it (an unhandled rejection ends a Node process).
    const alive = servers.map((s) => s.child.exitCode === null && s.child.signalCode === null);
    const lag = alive.every(Boolean) ? await eventLoopLag() : [];

    print(`\nScanGate concurrent QR logins bench: two server processes (node dist/src/main.js), real Postgres + Redis`);
    print(
      `  ${fmt(report.logins)} logins, ${fmt(report.concurrency)} in flight, ${report.phones} phones (${USERS} users × ${PHONES_PER_USER}), seed ${report.seed}`,
    );
    print(
      `  completed ${fmt(report.completed)}   lost ${report.lost}   doubled ${report.doubled}   misattributed ${report.misattributed}   5xx ${report.serverErrors}`,
    );
    print(
      `  audit: ${report.auditMismatches.length} transition counts off (settled ${fmt(report.auditSettledMs)} ms after the last login)`,
    );
    print(
      `  duration ${fmt(report.durationMs / 1000, 2)} s   ${fmt(report.loginsPerSecond, 1)} logins/s   requests A/B ${report.requestsPerInstance.join('/')} (${report.retries} retried after a transient failure)`,
    );
    for (const [step, l] of Object.entries(report.latency))
      print(
        `  ${step.padEnd(9)} p50 ${fmt(l.p50).padStart(6)} ms   p99 ${fmt(l.p99).padStart(6)} ms   max ${fmt(l.max).padStart(6)} ms`,
      );
    if (!alive.every(Boolean))
      print(
        `  SERVER DIED during the run: ${alive.map((up, i) => `${'AB'[i]} ${up ? 'up' : `exited (${servers[i]!.child.exitCode ?? servers[i]!.child.signalCode})`}`).join(', ')}`,
      );
    if (lag.length > 0)
      print(
        `  server event-loop delay during the run: ${lag.map((l, i) => `${'AB'[i]} max ${fmt(l.max)} ms, p99 ${fmt(l.p99)} ms`).join('; ')}`,
      );
    const errors = Object.entries(report.errors);
    print(`  errors: ${errors.length === 0 ? 'none' : errors.map(([k, v]) => `${k} ×${v}`).join(', ')}`);
    for (const line of report.samples) print(`  - ${line}`);
    for (const [i, s] of servers.entries()) {
      // What the server logged at warn and above (its JSON log), and anything on stderr, by message, most frequent first.
      const byMessage = new Map<string, number>();
      const count = (message: string) => byMessage.set(message, (byMessage.get(message) ?? 0) + 1);
      for (const line of s.stdout().split('\n')) {
        if (!line.startsWith('{')) continue; // the start-up banner
        try {
          const entry = JSON.parse(line) as {
            level?: number;
            msg?: string;
            context?: string;
            res?: { statusCode?: number };
          };
          if ((entry.level ?? 0) < 40) continue;
          count(
            `${entry.context ? `[${entry.context}] ` : ''}${(entry.msg ?? '').replace(/\d+ ms/g, 'N ms').slice(0, 160)}${entry.res?.statusCode ? ` (${entry.res.statusCode})` : ''}`,
          );
        } catch {
          count(line.slice(0, 160));
        }
      }
      for (const line of s.stderr().split('\n')) if (line.trim()) count(`stderr: ${line.trim().slice(0, 160)}`);
      const top = [...byMessage].sort((x, y) => y[1] - x[1]).slice(0, 6);
      if (top.length > 0) print(`  server ${'AB'[i]} logged: ${top.map(([m, n]) => `${n} × ${m}`).join(' | ')}`);
      if (process.env.BENCH_SERVER_LOG_DIR)
        writeFileSync(
          join(process.env.BENCH_SERVER_LOG_DIR, `concurrent-logins-server-${'ab'[i]}.log`),
          `${s.stdout()}\n${s.stderr()}`,
        );
    }
    print(`  ${describeReport(report)}\n`);

    expect({
      completed: report.completed,
      lost: report.lost,
      doubled: report.doubled,
      misattributed: report.misattributed,
      serverErrors: report.serverErrors,
      errors: report.errors,
      auditMismatches: report.auditMismatches.length,
      alive,
      seed: report.seed,
    }).toEqual({
      alive: [true, true],
      completed: LOGINS,
      lost: 0,
      doubled: 0,
      misattributed: 0,
      serverErrors: 0,
      errors: {},
      auditMismatches: 0,
      seed: report.seed,
    });
  }, 600_000);
});
