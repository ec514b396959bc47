import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { NewLogin } from '../../src/auth/account-events.js';
import type { QrStatusView } from '../../src/qr-login/qr-session.js';
import { bearer, createUser, loginWeb } from '../support/accounts.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { failoverProxy, type FailoverProxy } from '../support/failover-proxy.js';
import { confirm, createQr, exchange, scan, signInPhone, type Phone } from '../support/qr.js';
import {
  assertBuilt,
  freePort,
  startServer,
  stopStartedServers,
  waitForOk,
  type ServerProcess,
} from '../support/server-process.js';
import { describeWith, REAL_SERVICES_NEED, realBackend } from '../support/services.js';
import { connectSocket, refusedHandshake, type RecordingSocket } from '../support/sockets.js';
import { testConfig } from '../support/test-config.js';

/**
 * The gateway across instances on real Postgres and Redis: a browser's socket
 * on one instance while the phone talks to another; a phone's `/me` socket
 * told of what happened elsewhere; and failover, with real server processes
 * behind a front that sends reconnections to whichever instance is alive.
 */
const NEED = REAL_SERVICES_NEED;
const statuses = (s: RecordingSocket) => s.all<QrStatusView>('qr.status').map((v) => [v.status, v.version]);

describeWith(NEED, 'Socket.IO across two instances (in-process, shared Postgres and Redis)', () => {
  let backend: Awaited<ReturnType<typeof realBackend>>;
  let a: TestApp;
  let b: TestApp;
  let login: string;
  let phone: Phone;
  const open: RecordingSocket[] = [];
  const track = (s: RecordingSocket) => (open.push(s), s);

  beforeAll(async () => {
    backend = await realBackend('sgtest-rt2-');
    const config = testConfig({ LOG_LEVEL: 'warn', ...backend.env, RATE_LIMITS: 'off', SOCKET_MAX_PER_QR: '3' });
    [a, b] = await Promise.all([createTestApp({ config }), createTestApp({ config })]);
    ({ login } = await createUser(a));
    phone = await signInPhone(b, login);
  }, 180_000);

  afterAll(async () => {
    for (const s of open) s.close();
    await Promise.allSettled([a?.close(), b?.close()]);
    await backend?.dispose();
  });

  it('delivers every state, in order, to a browser on A while the browser and phone call B', async () => {
    for (let round = 0; round < 5; round++) {
      const qr = await createQr(b);
      const browser = track(await connectSocket(a.url, '/qr', { id: qr.id, pollToken: qr.pollToken }));
      await browser.nth('qr.status', 0);
      await scan(b, phone, qr.id).expect(200);
      await confirm(b, phone, qr.id, qr.matchCode).expect(200);
      await exchange(b, qr.id, qr.pollToken).expect(200);
      await browser.disconnected;
      expect(statuses(browser)).toEqual([
        ['pending', 1],
        ['scanned', 2],
        ['confirmed', 3],
        ['consumed', 4],
      ]);
    }
  });

  it('caps the sockets of one QR session over both instances', async () => {
    const qr = await createQr(a);
    const auth = { id: qr.id, pollToken: qr.pollToken };
    track(await connectSocket(a.url, '/qr', auth));
    track(await connectSocket(b.url, '/qr', auth));
    track(await connectSocket(a.url, '/qr', auth));
    expect((await refusedHandshake(b.url, '/qr', auth)).data).toMatchObject({ code: 'rate_limited' });
    expect((await refusedHandshake(a.url, '/qr', auth)).data).toMatchObject({ code: 'rate_limited' });
  });

  it('tells a phone on A of a new web session made on B, and of its revocation made on B', async () => {
    const other = await signInPhone(a, login);
    const me = track(await connectSocket(a.url, '/me', { token: other.accessToken }));
    const web = await loginWeb(b, login);
    expect(await me.nth<NewLogin>('login.new', 0)).toMatchObject({ createdVia: 'password', sessionId: web.sessionId });
    await request(b.url).delete(`/api/v1/me/sessions/${other.sessionId}`).set(bearer(web.accessToken)).expect(204);
    expect(await me.nth('session.revoked', 0)).toEqual({ sessionId: other.sessionId });
    expect(await me.disconnected).toBe('io server disconnect');
  });

  it('closes every /me socket of a user disabled on B, wherever they are', async () => {
    const { user, login: name } = await createUser(a, { roles: ['user'] });
    const { login: adminLogin } = await createUser(a, { roles: ['admin'] });
    const admin = await loginWeb(b, adminLogin);
    const phones = [await signInPhone(a, name), await signInPhone(b, name)];
    const sockets = [
      track(await connectSocket(a.url, '/me', { token: phones[0]!.accessToken })),
      track(await connectSocket(b.url, '/me', { token: phones[1]!.accessToken })),
    ];
    await request(b.url)
      .patch(`/api/v1/admin/users/${user.id}`)
      .set(bearer(admin.accessToken))
      .send({ status: 'disabled' })
      .expect(200);
    for (const [i, s] of sockets.entries()) {
      expect(await s.nth('session.revoked', 0)).toEqual({ sessionId: phones[i]!.sessionId });
      expect(await s.disconnected).toBe('io server disconnect');
    }
  });
});

describeWith(NEED, 'Socket.IO failover (two server processes behind a failover front)', () => {
  let backend: Awaited<ReturnType<typeof realBackend>>;
  let seed: TestApp;
  let servers: ServerProcess[] = [];
  let urls: string[] = [];
  let front: FailoverProxy;

  beforeAll(async () => {
    assertBuilt();
    backend = await realBackend('sgtest-rtfo-');
    const env = { NODE_ENV: 'test', HOST: '127.0.0.1', LOG_LEVEL: 'warn', RATE_LIMITS: 'off', ...backend.env };
    // The schema and first signing key come from one app; the two processes then start on them.
    seed = await createTestApp({ config: testConfig({ ...env, LOG_LEVEL: 'silent' }) });
    const ports = [await freePort(), await freePort()];
    servers = ports.map((port) => startServer({ ...env, PORT: String(port) }));
    urls = ports.map((port) => `http://127.0.0.1:${port}`);
    await Promise.all(urls.map((url, i) => waitForOk(`${url}/health/ready`, 90_000, servers[i]!.exited)));
    front = await failoverProxy(ports);
  }, 180_000);

  afterAll(async () => {
    await front?.close();
    await stopStartedServers();
    await seed?.close();
    await backend?.dispose();
  });

  it('reconnects a browser to the surviving instance when its own dies mid-flow, and completes the login', async () => {
    const { login } = await createUser(seed);
    const onB = { url: urls[1]! } as TestApp;
    const phone = await signInPhone(onB, login);
    const qr = await createQr(onB);

    // The browser, through the front: on A while A lives.
    const browser = await connectSocket(
      front.url,
      '/qr',
      { id: qr.id, pollToken: qr.pollToken },
      { reconnection: true },
    );
    try {
      expect(front.routed).toEqual([Number(new URL(urls[0]!).port)]);
      await browser.nth('qr.status', 0);
      await scan(onB, phone, qr.id).expect(200);
      await browser.nth('qr.status', 1);

      // A dies without a goodbye.
      servers[0]!.child.kill('SIGKILL');
      await servers[0]!.exited;
      await confirm(onB, phone, qr.id, qr.matchCode).expect(200);

      // The client reconnects through the front, lands on B and is told the current state.
      await new Promise<void>((resolve) => browser.socket.io.once('reconnect', () => resolve()));
      expect(front.routed.at(-1)).toBe(Number(new URL(urls[1]!).port));
      const current = await browser.nth<QrStatusView>('qr.status', 2);
      expect(current).toMatchObject({ status: 'confirmed', version: 3 });

      const signedIn = await exchange(onB, qr.id, qr.pollToken).expect(200);
      expect(signedIn.body.user.displayName).toEqual(expect.any(String));
      expect(await browser.nth<QrStatusView>('qr.status', 3)).toMatchObject({ status: 'consumed', version: 4 });
      expect(statuses(browser)).toEqual([
        ['pending', 1],
        ['scanned', 2],
        ['confirmed', 3],
        ['consumed', 4],
      ]);
    } finally {
      browser.close();
    }
  }, 30_000);
});

describe('the failover front used above', () => {
  it('sends each connection to the first target that accepts it', async () => {
    const dead = await freePort();
    const alive = await createTestApp({ config: testConfig({ LOG_LEVEL: 'silent' }) });
    const front = await failoverProxy([dead, Number(new URL(alive.url).port)]);
    try {
      await request(front.url).get('/health/live').expect(200);
      expect(front.routed).toEqual([Number(new URL(alive.url).port)]);
    } finally {
      await front.close();
      await alive.close();
    }
  });
});
