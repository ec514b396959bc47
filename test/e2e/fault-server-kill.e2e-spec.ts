import { afterAll, beforeAll, expect, it } from '@jest/globals';
import request from 'supertest';
import type { QrStatusView } from '../../src/qr-login/qr-session.js';
import { createUser } from '../support/accounts.js';
import { expectError } from '../support/http.js';
import { db } from '../support/rows.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { ms, send, tally, type Outcome } from '../support/faults.js';
import { confirm, createQr, exchange, scan, signInPhone, status } from '../support/qr.js';
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

/**
 * A server process dies (SIGKILL, no goodbye) between the phone's confirm and
 * the browser's exchange: two real server processes (`dist/src/main.js`) on the
 * shared Postgres (a fresh database) and Redis (a fresh key prefix). The QR
 * login lives in Redis, not in the dead process: the other instance finishes
 * it, and of several parallel exchanges exactly one signs the browser in.
 */
const PARALLEL_EXCHANGES = 8;

describeWith(
  REAL_SERVICES_NEED,
  'a server killed (SIGKILL) between confirm and exchange (two server processes, real Postgres and Redis)',
  () => {
    let backend: Awaited<ReturnType<typeof realBackend>> | undefined;
    let seed: TestApp | undefined;
    let a: ServerProcess;
    let b: ServerProcess;
    let onA: TestApp;
    let onB: TestApp;

    beforeAll(async () => {
      assertBuilt();
      backend = await realBackend('sgtest-kill-');
      // STORE_TIMEOUT_MS at its maximum: on a busy shared Redis a process can die at start-up when the Socket.IO
      // Redis adapter's SUBSCRIBE times out (an unhandled rejection: see fault-redis-restart, "a server process
      // started while Redis is down"). That is not what this suite is about.
      const env = {
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        RATE_LIMITS: 'off',
        STORE_TIMEOUT_MS: '1000',
        ...backend.env,
      };
      // The schema and the first signing key come from one in-process app; the two processes then start on them.
      seed = await createTestApp({ config: testConfig({ ...env, LOG_LEVEL: 'silent' }) });
      const [portA, portB] = [await freePort(), await freePort()];
      a = startServer({ ...env, PORT: String(portA) });
      b = startServer({ ...env, PORT: String(portB) });
      onA = { url: `http://127.0.0.1:${portA}` } as TestApp;
      onB = { url: `http://127.0.0.1:${portB}` } as TestApp;
      await Promise.all([ready(a, onA.url), ready(b, onB.url)]);
    }, 120_000);

    afterAll(async () => {
      await stopStartedServers();
      await seed?.close();
      await backend?.dispose();
    }, 60_000);

    /** Waits for the process's readiness; on failure the error carries what it printed (why it did not start). */
    const ready = async (server: ServerProcess, url: string) => {
      try {
        await waitForOk(`${url}/health/ready`, 60_000, server.exited);
      } catch (error) {
        throw new Error(
          `${(error as Error).message} (${url}, exit code ${server.child.exitCode}, signal ${server.child.signalCode})\nstdout:\n${server.stdout().slice(-4_000)}\nstderr:\n${server.stderr().slice(-4_000)}`,
          { cause: error },
        );
      }
    };

    const webQrSessions = async (userId: string) =>
      (
        (await db(seed!).query(
          `SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND kind = 'web' AND created_via = 'qr'`,
          [userId],
        )) as Array<{ n: number }>
      )[0]!.n;

    it('lets exactly one of several parallel exchanges on B succeed after A, where the login was created, scanned and confirmed, is killed: one web session, the others 410 qr.consumed', async () => {
      const { user, login } = await createUser(seed!);
      const phone = await signInPhone(onA, login);
      const qr = await createQr(onA);
      await scan(onA, phone, qr.id).expect(200);
      await confirm(onA, phone, qr.id, qr.matchCode).expect(200, { status: 'confirmed' });

      const killedAt = performance.now();
      a.child.kill('SIGKILL');
      await a.exited;
      // A is really gone: nothing answers at its address.
      const toA = await send('A after the kill', () =>
        request(onA.url).get('/health/live').timeout({ response: 10_000 }),
      );
      expect(toA.status).toBe(0);

      // What A confirmed is still there, on B.
      await status(onB, qr.id, qr.pollToken)
        .expect(200)
        .expect((res) => expect(res.body).toMatchObject({ id: qr.id, status: 'confirmed', version: 3 }));

      const outcomes: Outcome[] = [];
      const answers = await Promise.all(
        Array.from({ length: PARALLEL_EXCHANGES }, () =>
          send('exchange on B', () => exchange(onB, qr.id, qr.pollToken).timeout({ response: 30_000 }), outcomes),
        ),
      );
      const ok = answers.filter((o) => o.status === 200);
      const firstOk = ok.length > 0 ? Math.min(...ok.map((o) => o.answeredAt)) - killedAt : -1;
      console.log(
        `Server kill: ${PARALLEL_EXCHANGES} parallel exchanges on B after SIGKILL of A: ${JSON.stringify(tally(outcomes))}; ` +
          `kill → first successful exchange on B ${ms(firstOk)} ms; web sessions for the login: ${await webQrSessions(user.id)}`,
      );
      expect(ok).toHaveLength(1);
      expect(ok[0]!.res!.body.user).toMatchObject({ id: user.id });
      expect(ok[0]!.res!.body.accessToken).toEqual(expect.any(String));
      for (const other of answers.filter((o) => o.status !== 200)) expectError(other.res!, 410, 'qr.consumed');
      expect(await webQrSessions(user.id)).toBe(1);
      const final = (await status(onB, qr.id, qr.pollToken).expect(200)).body as QrStatusView;
      expect(final).toMatchObject({ status: 'consumed', version: 4 });
    });

    it('keeps B serving sign-ins and QR logins after A died', async () => {
      const { login } = await createUser(seed!);
      const phone = await signInPhone(onB, login);
      const qr = await createQr(onB);
      await scan(onB, phone, qr.id).expect(200);
      await confirm(onB, phone, qr.id, qr.matchCode).expect(200);
      await exchange(onB, qr.id, qr.pollToken).expect(200);
      await request(onB.url).get('/health/ready').expect(200);
    });
  },
);
