import { afterAll, beforeAll, expect, it } from '@jest/globals';
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
import { describeWith, REAL_SERVICES_NEED, realBackend } from '../support/services.js';
import { testConfig } from '../support/test-config.js';

/**
 * Two instances of the app on one real Postgres and one real Redis, many QR
 * logins at once, every step sent to either instance at random (seeded: set
 * CONCURRENT_LOGINS_SEED to replay a plan). The CI-sized variant of the bench
 * test/bench/concurrent-logins.bench.ts (2,000 logins). Throughput is printed,
 * never asserted.
 */
const LOGINS = Number(process.env.CONCURRENT_LOGINS ?? 300);
/**
 * Logins in flight at once. Both instances and all clients share the Jest process: with all 300 at
 * once on a busy 2-core CI machine, event-loop stalls passed the store's longest time-out (a 503 in
 * a run whose create p50 was 6 s). 64 keeps the steps interleaved across instances; the bench runs
 * 2,000 over real server processes.
 */
const IN_FLIGHT = Number(process.env.CONCURRENT_LOGINS_IN_FLIGHT ?? 64);
const USERS = 12;
const PHONES_PER_USER = 2;

describeWith(REAL_SERVICES_NEED, 'QR logins at once over two instances (real Postgres and Redis)', () => {
  let backend: Awaited<ReturnType<typeof realBackend>> | undefined;
  let a: TestApp | undefined;
  let b: TestApp | undefined;
  let phones: LoginPhone[];
  let report: ConcurrentLoginsReport;

  beforeAll(async () => {
    backend = await realBackend('sgtest-conc-');
    const config = testConfig({
      LOG_LEVEL: 'warn',
      ...backend.env,
      RATE_LIMITS: 'off',
      // Generous: a busy 2-core machine must not turn slowness into expiry or store time-outs.
      QR_TTL_SECONDS: '300',
      STORE_TIMEOUT_MS: '1000',
    });
    // Started together (migrations and the first signing key are made once, under locks); if one
    // fails, the other is still kept, for afterAll to close.
    const started = await Promise.allSettled([createTestApp({ config }), createTestApp({ config })]);
    [a, b] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    phones = await preparePhones(a!, [a!.url, b!.url], USERS, PHONES_PER_USER);
    const seed = loginSeed();
    report = await runConcurrentLogins({
      urls: [a!.url, b!.url],
      phones,
      logins: LOGINS,
      concurrency: IN_FLIGHT,
      seed,
      db: a!.app.get(DataSource),
    });
    process.stdout.write(`[concurrent-logins e2e] ${describeReport(report)}\n`);
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await backend?.dispose();
  }, 60_000);

  const failure = () => ({ seed: report.seed, errors: report.errors, samples: report.samples });

  it(`every one of ${LOGINS} concurrent logins ends in exactly one web session: none lost, none doubled`, () => {
    expect({ completed: report.completed, lost: report.lost, doubled: report.doubled, ...failure() }).toEqual({
      completed: LOGINS,
      lost: 0,
      doubled: 0,
      ...failure(),
    });
  });

  it('each web session belongs to the user whose phone approved the login, and the audit names that phone', () => {
    expect({ misattributed: report.misattributed, ...failure() }).toEqual({ misattributed: 0, ...failure() });
  });

  it('no request of any step fails, and none answers 5xx, whichever instance takes it', () => {
    expect({ serverErrors: report.serverErrors, errors: report.errors, seed: report.seed }).toEqual({
      serverErrors: 0,
      errors: {},
      seed: report.seed,
    });
    // Both instances did take steps (the plan splits them at random).
    expect(Math.min(...report.requestsPerInstance)).toBeGreaterThan(0);
  });

  it('the audit log has each login’s created, scanned, confirmed and consumed exactly once, and no cancel or expiry', () => {
    expect({
      mismatches: report.auditMismatches.slice(0, 20),
      count: report.auditMismatches.length,
      seed: report.seed,
    }).toEqual({ mismatches: [], count: 0, seed: report.seed });
  });
});
