import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import { Server as IoServer, type Namespace } from 'socket.io';
import type { Exchanged, QrStatus, QrStatusBody } from '../api.js';

/**
 * A fake ScanGate for the web client's tests: just the browser side of the QR
 * login (PROTOCOL.md "QR login with our own app" and "Socket.IO, namespace /qr"),
 * in memory, plus controls to drive a session and break the network.
 */

export type Route = 'create' | 'status' | 'exchange';

export interface FakeQrSession {
  id: string;
  pollToken: string;
  status: QrStatus;
  version: number;
  expiresAt: string;
  matchCode: string;
}

export interface Failure {
  status: number;
  code: string;
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number;
}

interface Waiter {
  id: string;
  afterVersion: number;
  res: ServerResponse;
  timer: ReturnType<typeof setTimeout>;
}

const TERMINAL: ReadonlySet<QrStatus> = new Set(['consumed', 'expired', 'cancelled']);
const PATH = /^\/api\/v1\/qr-sessions(?:\/([^/]+)(\/exchange)?)?$/;

export class FakeScanGate {
  /** Requests seen, per route (`longPoll`: GETs with `waitSeconds`; `upgrade`: WebSocket handshakes). */
  readonly requests = { create: 0, status: 0, longPoll: 0, exchange: 0, upgrade: 0 };
  /** What a successful exchange answers. */
  signedIn: Exchanged = {
    user: { id: 'user-1', displayName: 'Ada Lovelace', avatarUrl: null },
    accessToken: 'access-token-1',
    expiresIn: 900,
  };
  /** Time an exchange takes after the session became `consumed` (the real server then creates the web session). */
  exchangeLatencyMs = 20;

  private readonly sessions = new Map<string, FakeQrSession>();
  private readonly failures = new Map<Route, Failure[]>();
  private readonly waiters = new Set<Waiter>();
  private websocketsBlocked = false;
  private readonly http: HttpServer;
  private readonly io: IoServer;
  private readonly qr: Namespace;

  private constructor() {
    this.http = createServer((req, res) => void this.handle(req, res));
    this.io = new IoServer(this.http, { serveClient: false });
    this.qr = this.io.of('/qr');
    this.qr.use((socket, next) => {
      const { id, pollToken } = socket.handshake.auth as { id?: string; pollToken?: string };
      const session = id ? this.sessions.get(id) : undefined;
      next(session && session.pollToken === pollToken ? undefined : new Error('qr.not_found'));
    });
    this.qr.on('connection', (socket) => {
      const session = this.sessions.get(socket.handshake.auth.id as string)!;
      void socket.join(session.id);
      socket.emit('qr.status', view(session));
      if (TERMINAL.has(session.status)) socket.disconnect();
    });
    // Socket.IO installed its WebSocket upgrade handler: put a gate in front of it.
    const upgrades = this.http.listeners('upgrade') as ((
      req: IncomingMessage,
      socket: NetSocket,
      head: Buffer,
    ) => void)[];
    this.http.removeAllListeners('upgrade');
    this.http.on('upgrade', (req: IncomingMessage, socket: NetSocket, head: Buffer) => {
      this.requests.upgrade++;
      if (this.websocketsBlocked) return void socket.destroy();
      for (const upgrade of upgrades) upgrade.call(this.http, req, socket, head);
    });
  }

  static async start(): Promise<FakeScanGate> {
    const server = new FakeScanGate();
    await new Promise<void>((resolve) => server.http.listen(0, '127.0.0.1', resolve));
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  session(id: string): FakeQrSession | undefined {
    return this.sessions.get(id);
  }

  /** The session created last. */
  get latest(): FakeQrSession | undefined {
    return [...this.sessions.values()].at(-1);
  }

  /** Long polls held open right now. */
  get openLongPolls(): number {
    return this.waiters.size;
  }

  /** `/qr` sockets connected right now. */
  get connectedSockets(): number {
    return this.qr.sockets.size;
  }

  /** The phone (or the clock) moves the session on: bumps the version, tells sockets and long polls. */
  transition(id: string, status: QrStatus): FakeQrSession {
    const session = this.sessions.get(id);
    if (!session) throw new Error(`fake: no QR session ${id}`);
    session.status = status;
    session.version++;
    this.notify(session);
    return session;
  }

  /** Sends any body to the sockets of `id` (e.g. a stale or duplicate version). */
  emitRaw(id: string, body: QrStatusBody): void {
    this.qr.to(id).emit('qr.status', body);
  }

  /** The server loses the session (restart with an in-memory store): 404 from now on, held long polls included. */
  forget(id: string): void {
    this.sessions.delete(id);
    for (const waiter of [...this.waiters])
      if (waiter.id === id) this.release(waiter, () => fail(waiter.res, { status: 404, code: 'qr.not_found' }));
  }

  /** The next request to `route` gets this error instead (queued, one per call). */
  failNext(route: Route, failure: Failure): void {
    this.failures.set(route, [...(this.failures.get(route) ?? []), failure]);
  }

  /** Refuse WebSocket handshakes at the transport level (the TCP socket is destroyed). */
  blockWebSockets(blocked: boolean): void {
    this.websocketsBlocked = blocked;
  }

  /** A network drop: the TCP connections of all `/qr` sockets are destroyed. */
  dropSockets(): void {
    for (const socket of this.qr.sockets.values()) socket.request.socket.destroy();
  }

  async close(): Promise<void> {
    for (const waiter of [...this.waiters]) this.release(waiter, () => waiter.res.destroy());
    const closed = new Promise<void>((resolve) => this.io.close(() => resolve()));
    this.http.closeAllConnections();
    await closed;
  }

  private notify(session: FakeQrSession): void {
    this.qr.to(session.id).emit('qr.status', view(session));
    if (TERMINAL.has(session.status)) this.qr.in(session.id).disconnectSockets();
    for (const waiter of [...this.waiters]) {
      if (waiter.id === session.id && session.version > waiter.afterVersion)
        this.release(waiter, () => send(waiter.res, 200, view(session)));
    }
  }

  private release(waiter: Waiter, answer: () => void): void {
    clearTimeout(waiter.timer);
    this.waiters.delete(waiter);
    answer();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const match = PATH.exec(url.pathname);
    const body = await readJson(req);
    if (!match) return fail(res, { status: 404, code: 'not_found' });
    const [, id, exchange] = match;
    const route: Route | null =
      !id && req.method === 'POST'
        ? 'create'
        : id && !exchange && req.method === 'GET'
          ? 'status'
          : id && exchange && req.method === 'POST'
            ? 'exchange'
            : null;
    if (!route) return fail(res, { status: 404, code: 'not_found' });

    const wait = url.searchParams.has('waitSeconds');
    this.requests[route === 'status' && wait ? 'longPoll' : route]++;
    const failure = this.failures.get(route)?.shift();
    if (failure) return fail(res, failure);

    if (route === 'create') {
      if (body === undefined || Object.keys(body).some((key) => key !== 'returnTo'))
        return fail(res, { status: 400, code: 'validation.failed' });
      const session: FakeQrSession = {
        id: randomBytes(16).toString('base64url'),
        pollToken: randomBytes(16).toString('base64url'),
        status: 'pending',
        version: 1,
        expiresAt: new Date(Date.now() + 120_000).toISOString(),
        matchCode: String(10 + (randomBytes(1)[0]! % 90)),
      };
      this.sessions.set(session.id, session);
      return send(res, 201, {
        ...view(session),
        pollToken: session.pollToken,
        qrContent: `${this.url}/m/qr/${session.id}`,
        qrImage: { svg: `/api/v1/qr-sessions/${session.id}/qr.svg`, png: `/api/v1/qr-sessions/${session.id}/qr.png` },
        pollIntervalMs: 1000,
        matchCode: session.matchCode,
      });
    }

    const session = this.sessions.get(decodeURIComponent(id!));
    if (!session || session.pollToken !== req.headers['x-poll-token'])
      return fail(res, { status: 404, code: 'qr.not_found' });

    if (route === 'exchange') {
      if (session.status === 'consumed') return fail(res, { status: 410, code: 'qr.consumed' });
      if (session.status === 'expired') return fail(res, { status: 410, code: 'qr.expired' });
      if (session.status !== 'confirmed') return fail(res, { status: 409, code: 'qr.wrong_state' });
      // Like the real server: `consumed` is published first, the answer follows once the web session exists.
      this.transition(session.id, 'consumed');
      await new Promise((resolve) => setTimeout(resolve, this.exchangeLatencyMs));
      return send(res, 200, this.signedIn);
    }

    if (!wait) return send(res, 200, view(session));
    const seconds = Number(url.searchParams.get('waitSeconds'));
    const afterVersion = Number(url.searchParams.get('afterVersion') ?? session.version);
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 30 || !Number.isInteger(afterVersion))
      return fail(res, { status: 400, code: 'validation.failed' });
    if (session.version > afterVersion) return send(res, 200, view(session));
    const waiter: Waiter = {
      id: session.id,
      afterVersion,
      res,
      timer: setTimeout(
        () => this.release(waiter, () => send(res, 200, view(this.sessions.get(session.id) ?? session))),
        seconds * 1_000,
      ),
    };
    this.waiters.add(waiter);
    // The browser gave up (aborted, or stopped following).
    res.on('close', () => this.waiters.has(waiter) && this.release(waiter, () => undefined));
  }
}

function view(session: FakeQrSession): QrStatusBody {
  return { id: session.id, status: session.status, version: session.version, expiresAt: session.expiresAt };
}

function send(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

function fail(res: ServerResponse, failure: Failure): void {
  const requestId = randomBytes(6).toString('hex');
  const headers: Record<string, string> = { 'X-Request-Id': requestId };
  if (failure.retryAfter !== undefined) headers['Retry-After'] = String(failure.retryAfter);
  send(res, failure.status, { code: failure.code, message: `fake: ${failure.code}`, requestId }, headers);
}

/** The JSON body (`{}` when empty), or undefined when it is not a JSON object. */
async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
