import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { QrStatusBody } from './api.js';
import { ScanGateError } from './errors.js';
import { createQrLogin, type QrLogin, type QrLoginOptions, type QrSessionInfo } from './qr-login.js';
import { FakeScanGate } from './testing/fake-server.js';

type Logged = { event: 'session' | 'status' | 'signedIn' | 'transport' | 'error'; payload: unknown };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => unknown, what: string, timeoutMs = 4_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(10);
  }
}

describe('createQrLogin against a fake ScanGate', () => {
  let server: FakeScanGate;
  let logins: QrLogin[];

  beforeEach(async () => {
    server = await FakeScanGate.start();
    logins = [];
  });

  afterEach(async () => {
    for (const login of logins) login.stop();
    await server.close();
  });

  /** A login on the fake with short timeouts, and the log of everything it emits. */
  function open(options: QrLoginOptions = {}) {
    const login = createQrLogin({ baseUrl: server.url, socketTimeoutMs: 200, longPollSeconds: 1, ...options });
    logins.push(login);
    const log: Logged[] = [];
    for (const event of ['session', 'status', 'signedIn', 'transport', 'error'] as const)
      login.on(event, (payload) => log.push({ event, payload }));
    const payloads = <T>(event: Logged['event']) =>
      log.filter((entry) => entry.event === event).map((entry) => entry.payload as T);
    return {
      login,
      log,
      sessions: () => payloads<QrSessionInfo>('session'),
      statuses: () => payloads<QrStatusBody>('status').map((body) => `${body.status}@${body.version}`),
      transports: () => payloads<string>('transport'),
      errors: () => payloads<ScanGateError>('error'),
      signedIn: () => payloads('signedIn'),
      has: (status: string) => payloads<QrStatusBody>('status').some((body) => body.status === status),
    };
  }

  /** Started and following over the socket (a generous socket timeout: no long poll while it connects). */
  async function following(options: QrLoginOptions = {}) {
    const opened = open({ socketTimeoutMs: 2_000, ...options });
    await opened.login.start();
    await waitFor(() => opened.login.transport === 'socket' && server.connectedSockets === 1, 'socket connected');
    return { ...opened, id: opened.login.state!.id };
  }

  it('start() creates a session, emits it (never the poll token) and `pending`, then follows over the socket', async () => {
    const { login, log, sessions, statuses, transports } = open({ socketTimeoutMs: 2_000 });
    await login.start();

    const created = server.latest!;
    expect(server.requests.create).toBe(1);
    expect(sessions()).toEqual([
      {
        id: created.id,
        qrContent: `${server.url}/m/qr/${created.id}`,
        imageUrl: `${server.url}/api/v1/qr-sessions/${created.id}/qr.svg`,
        matchCode: created.matchCode,
        expiresAt: created.expiresAt,
      },
    ]);
    expect(log.filter((entry) => entry.event === 'status').map((entry) => entry.payload)).toEqual([
      { id: created.id, status: 'pending', version: 1, expiresAt: created.expiresAt },
    ]);
    expect(login.state).toMatchObject({ id: created.id, status: 'pending', version: 1 });

    await waitFor(() => login.transport === 'socket', 'transport socket');
    expect(transports()).toEqual(['socket']);
    expect(server.connectedSockets).toBe(1);
    expect(server.requests.longPoll).toBe(0);
    expect(statuses()).toEqual(['pending@1']); // the socket's first `qr.status` (version 1) is not repeated

    // The poll token stays inside the library.
    for (const seen of [login.state, ...log.map((entry) => entry.payload)]) {
      expect(JSON.stringify(seen)).not.toContain(created.pollToken);
      expect(seen).not.toHaveProperty('pollToken');
    }
  });

  it('applies status changes once, in version order, ignoring stale, duplicate and foreign ones', async () => {
    const { id, statuses, signedIn, login } = await following();
    const expiresAt = server.session(id)!.expiresAt;
    const onScanned = jest.fn();
    login.on('scanned', onScanned);

    server.transition(id, 'scanned');
    await waitFor(() => statuses().length === 2, 'scanned');
    server.emitRaw(id, { id, status: 'pending', version: 1, expiresAt }); // stale
    server.emitRaw(id, { id, status: 'scanned', version: 2, expiresAt }); // duplicate
    server.emitRaw(id, { id: 'someone-else', status: 'cancelled', version: 9, expiresAt }); // another session
    server.transition(id, 'confirmed'); // same socket, so it arrives after the three above
    await waitFor(() => signedIn().length === 1, 'signed in');

    expect(statuses().slice(0, 3)).toEqual(['pending@1', 'scanned@2', 'confirmed@3']);
    expect(statuses().filter((status) => !status.startsWith('consumed'))).toHaveLength(3);
    expect(onScanned).toHaveBeenCalledTimes(1);
    expect(onScanned).toHaveBeenCalledWith({ id, status: 'scanned', version: 2, expiresAt });
  });

  it('confirmed: exchanges exactly once, emits `signedIn` with the user and access token and `consumed`, then nothing more', async () => {
    const { id, log, statuses, signedIn, errors, has, login } = await following();

    server.transition(id, 'scanned');
    server.transition(id, 'confirmed');
    await waitFor(() => signedIn().length === 1 && has('consumed'), 'signed in and consumed');
    const settled = log.length;
    await sleep(300);

    expect(server.requests.exchange).toBe(1);
    expect(signedIn()).toEqual([server.signedIn]);
    expect(statuses().slice(0, 3)).toEqual(['pending@1', 'scanned@2', 'confirmed@3']);
    expect(login.state?.status).toBe('consumed');
    expect(errors()).toEqual([]);
    expect(log).toHaveLength(settled);
    expect(server.connectedSockets).toBe(0);
    expect(server.openLongPolls).toBe(0);
  });

  it('confirmed: `consumed` is announced once, at the server version, even when the socket reports it before the exchange answers', async () => {
    const { id, statuses, signedIn, login, log } = await following();

    server.transition(id, 'scanned');
    server.transition(id, 'confirmed');
    await waitFor(() => signedIn().length === 1, 'signed in');
    await sleep(100);

    expect(statuses()).toEqual(['pending@1', 'scanned@2', 'confirmed@3', 'consumed@4']);
    expect(login.state).toMatchObject({ status: 'consumed', version: server.session(id)!.version });
    expect(log.map((entry) => entry.event).at(-1)).toBe('signedIn');
  });

  it('websockets blocked: follows over HTTP long polls (transport `long-poll`) and signs in', async () => {
    server.blockWebSockets(true);
    const { login, statuses, signedIn, transports } = open();
    await login.start();
    const id = login.state!.id;
    await waitFor(() => server.openLongPolls === 1, 'a long poll held');

    server.transition(id, 'scanned');
    await waitFor(() => statuses().includes('scanned@2'), 'scanned');
    expect(login.transport).toBe('long-poll');
    await waitFor(() => server.openLongPolls === 1, 'the next long poll held');
    server.transition(id, 'confirmed');
    await waitFor(() => signedIn().length === 1, 'signed in');

    expect(statuses().slice(0, 3)).toEqual(['pending@1', 'scanned@2', 'confirmed@3']);
    expect(signedIn()).toEqual([server.signedIn]);
    expect(server.requests.exchange).toBe(1);
    expect(server.requests.upgrade).toBeGreaterThanOrEqual(1);
    expect(transports()).toEqual(['long-poll']);

    // Signed in: no more long polls and no more socket attempts.
    const after = { ...server.requests };
    await sleep(800);
    expect(server.requests).toEqual(after);
    expect(server.openLongPolls).toBe(0);
  });

  it('network drop of the socket: long polls meanwhile, reconnects the socket, and signs in', async () => {
    const { id, statuses, signedIn, transports } = await following();

    server.dropSockets();
    server.transition(id, 'scanned'); // lost on the dropped socket
    await waitFor(() => statuses().includes('scanned@2'), 'scanned while the socket is down');
    expect(server.requests.longPoll).toBeGreaterThanOrEqual(1);

    await waitFor(() => transports().at(-1) === 'socket' && server.connectedSockets === 1, 'socket reconnected');
    expect(transports()).toEqual(['socket', 'long-poll', 'socket']);
    server.transition(id, 'confirmed');
    await waitFor(() => signedIn().length === 1, 'signed in');

    expect(statuses().slice(0, 3)).toEqual(['pending@1', 'scanned@2', 'confirmed@3']);
    expect(server.requests.exchange).toBe(1);
  });

  it('expired while open: creates a new session by itself within the attempt window and follows it', async () => {
    const { id, sessions, statuses, login } = await following();

    server.transition(id, 'expired');
    await waitFor(() => sessions().length === 2, 'a second session');
    const renewed = sessions()[1]!;

    expect(renewed.id).not.toBe(id);
    expect(renewed.id).toBe(server.latest!.id);
    expect(server.requests.create).toBe(2);
    expect(statuses()).toEqual(['pending@1', 'expired@2', 'pending@1']);
    await waitFor(() => server.connectedSockets === 1, 'following the new session');
    expect(login.state).toMatchObject({ id: renewed.id, status: 'pending' });
  });

  it.each([
    ['the attempt window (attemptMs) is over', { attemptMs: 200 }],
    ['autoRenew is off', { autoRenew: false }],
  ])('expired when %s: stays `expired` until renew() starts again', async (_when, options: QrLoginOptions) => {
    const { id, sessions, statuses, login } = await following(options);
    await sleep(250);

    server.transition(id, 'expired');
    await waitFor(() => statuses().includes('expired@2'), 'expired');
    await sleep(300);
    expect(server.requests.create).toBe(1);
    expect(sessions()).toHaveLength(1);
    expect(login.state).toMatchObject({ id, status: 'expired' });

    await login.renew();
    expect(server.requests.create).toBe(2);
    expect(sessions()).toHaveLength(2);
    expect(login.state).toMatchObject({ id: server.latest!.id, status: 'pending', version: 1 });
    expect(login.state!.id).not.toBe(id);
    await waitFor(() => server.connectedSockets === 1, 'following the new session');
  });

  it('a session the server no longer knows (socket handshake refused `qr.not_found`) is treated as expired and renewed', async () => {
    // A long socket timeout: only the socket can tell.
    const { login, sessions, statuses, errors } = open({ socketTimeoutMs: 5_000 });
    login.on('session', (session) => sessions().length === 1 && server.forget(session.id));
    await login.start();

    await waitFor(() => sessions().length === 2, 'a second session');
    expect(statuses()).toEqual(['pending@1', 'expired@2', 'pending@1']);
    expect(server.requests.longPoll).toBe(0);
    expect(errors()).toEqual([]);
    await waitFor(() => login.transport === 'socket' && server.connectedSockets === 1, 'following the new session');
    expect(login.state!.id).toBe(sessions()[1]!.id);
  });

  it('a server that forgets every code at once is not hammered: renewals back off (immediately, then 2 s, 4 s, …)', async () => {
    const { login } = open({ socketTimeoutMs: 2_000 });
    login.on('session', (session) => server.forget(session.id));
    await login.start();
    await sleep(3_500);
    // Without the pause this loop would create a code every few milliseconds.
    expect(server.requests.create).toBeGreaterThanOrEqual(3);
    expect(server.requests.create).toBeLessThanOrEqual(4);
  });

  it('a long poll refused for good (400 `validation.failed`) is reported once and not retried', async () => {
    server.blockWebSockets(true);
    const { login, errors } = open({ longPollSeconds: 1 });
    server.failNext('status', { status: 400, code: 'validation.failed' });
    await login.start();
    await waitFor(() => errors().length === 1, 'the error reported');
    expect(errors()[0]).toMatchObject({ code: 'validation.failed', status: 400 });
    const polls = server.requests.status;
    await sleep(1_500);
    expect(server.requests.status).toBe(polls);
    expect(errors()).toHaveLength(1);
  });

  it('a session the server no longer knows (long poll 404 `qr.not_found`) is treated as expired and renewed', async () => {
    server.blockWebSockets(true);
    const { login, sessions, statuses, errors } = open();
    await login.start();
    const first = login.state!.id;
    await waitFor(() => server.openLongPolls === 1, 'a long poll held');

    server.forget(first);
    await waitFor(() => sessions().length === 2, 'a second session');
    expect(statuses()).toEqual(['pending@1', 'expired@2', 'pending@1']);
    expect(login.state!.id).not.toBe(first);
    expect(errors()).toEqual([]);
    await waitFor(() => server.openLongPolls === 1, 'long polling the new session');
  });

  it('cancelled on the phone: stops, with no renewal and no exchange', async () => {
    const { id, sessions, statuses, errors, log, login } = await following();

    server.transition(id, 'scanned');
    server.transition(id, 'cancelled');
    await waitFor(() => statuses().includes('cancelled@3'), 'cancelled');
    const settled = log.length;
    await sleep(400);

    expect(log).toHaveLength(settled);
    expect(statuses()).toEqual(['pending@1', 'scanned@2', 'cancelled@3']);
    expect(sessions()).toHaveLength(1);
    expect(login.state).toMatchObject({ id, status: 'cancelled' });
    expect(server.requests).toMatchObject({ create: 1, exchange: 0, longPoll: 0, upgrade: 1 });
    expect(server.connectedSockets).toBe(0);
    expect(errors()).toEqual([]);
  });

  it('exchange failing transiently (503 `store.unavailable` once) is retried and signs in', async () => {
    server.failNext('exchange', { status: 503, code: 'store.unavailable' });
    const { id, signedIn, errors, has } = await following();

    server.transition(id, 'scanned');
    server.transition(id, 'confirmed');
    await waitFor(() => signedIn().length === 1, 'signed in');

    expect(server.requests.exchange).toBe(2);
    expect(signedIn()).toEqual([server.signedIn]);
    expect(has('consumed')).toBe(true);
    expect(errors()).toEqual([]);
  });

  it('exchange failing with a non-transient code surfaces an `error` (ScanGateError with that code), once, without retrying', async () => {
    server.failNext('exchange', { status: 403, code: 'auth.account_disabled' });
    const { id, signedIn, errors } = await following();

    server.transition(id, 'scanned');
    server.transition(id, 'confirmed');
    await waitFor(() => errors().length === 1, 'an error');
    const [error] = errors();

    expect(error).toBeInstanceOf(ScanGateError);
    expect(error).toMatchObject({ code: 'auth.account_disabled', status: 403, transient: false });
    expect(error!.requestId).toEqual(expect.any(String));
    await sleep(1_100); // longer than the first retry delay of a transient failure
    expect(server.requests.exchange).toBe(1);
    expect(errors()).toHaveLength(1);
    expect(signedIn()).toEqual([]);
  });

  it('start() rejects with ScanGateError `rate_limited` (retryAfterSeconds from Retry-After) when creation is refused, and emits `error`', async () => {
    server.failNext('create', { status: 429, code: 'rate_limited', retryAfter: 7 });
    const { login, errors, sessions } = open();

    const rejection = await login.start().then(
      () => null,
      (error: unknown) => error,
    );

    expect(rejection).toBeInstanceOf(ScanGateError);
    expect(rejection).toMatchObject({ code: 'rate_limited', status: 429, retryAfterSeconds: 7, transient: true });
    expect(errors()).toEqual([rejection]);
    expect(sessions()).toEqual([]);
    expect(login.state).toBeNull();
    expect(server.requests.upgrade).toBe(0);
  });

  it('stop() closes the socket: the server sees no further requests and later changes are not reported', async () => {
    const { id, login, log } = await following();

    login.stop();
    await waitFor(() => server.connectedSockets === 0, 'socket closed');
    const after = { ...server.requests };
    const settled = log.length;
    server.transition(id, 'scanned');
    await sleep(600);

    expect(server.requests).toEqual(after);
    expect(log).toHaveLength(settled);
  });

  it('stop() while long polling: aborts the held long poll and neither polls nor retries the socket again', async () => {
    server.blockWebSockets(true);
    const { login, log } = open();
    await login.start();
    await waitFor(() => server.openLongPolls === 1, 'a long poll held');

    login.stop();
    await waitFor(() => server.openLongPolls === 0, 'long poll aborted');
    const after = { ...server.requests };
    const settled = log.length;
    await sleep(800); // past the socket's next reconnection attempt (0.25–0.75 s) and a long poll's end (1 s)

    expect(server.requests).toEqual(after);
    expect(log).toHaveLength(settled);
  });
});
