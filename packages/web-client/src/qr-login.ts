import { io as connectSocket, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { QrApi, type CreatedQrSession, type Exchanged, type QrStatus, type QrStatusBody } from './api.js';
import { Emitter } from './emitter.js';
import { ScanGateError } from './errors.js';

export interface QrLoginOptions {
  /** Where ScanGate runs, e.g. `https://login.example.com`. Default: this page's origin. */
  baseUrl?: string;
  /** Sent at creation; the server validates it (same-origin path or an allowlisted origin). */
  returnTo?: string;
  /** Get a new QR code by itself when one expires while the page is open (default true)… */
  autoRenew?: boolean;
  /** …for this long after `start()`/`renew()`, after which the user asks for a new code (default 5 min). */
  attemptMs?: number;
  /** Follow over HTTP long polls while the socket is not connected after this long (default 3 s). */
  socketTimeoutMs?: number;
  /** How long one long poll may wait on the server (1–30 s, default 25). */
  longPollSeconds?: number;
  /** Which image route to show (default `svg`). */
  image?: 'svg' | 'png';
  /** Texts rendered into the element given to `start()`. */
  labels?: { qrAlt?: string; matchCode?: string };
  /** For tests and unusual runtimes. */
  fetch?: typeof fetch;
  io?: (url: string, options: Partial<ManagerOptions & SocketOptions>) => Socket;
}

/** A QR code being shown: what a page needs to draw it (never the poll token). */
export interface QrSessionInfo {
  id: string;
  qrContent: string;
  imageUrl: string;
  matchCode: string | null;
  expiresAt: string;
}

export type QrStatusEvent = QrStatusBody;
export type Transport = 'socket' | 'long-poll';

export interface QrLoginEvents extends Record<QrStatus, QrStatusEvent> {
  [key: string]: unknown;
  /** A new QR code to show (the first one, and each renewal). */
  session: QrSessionInfo;
  /** Every change of state, in version order, never twice. */
  status: QrStatusEvent;
  /** The exchange succeeded: the browser holds a web session (refresh cookie set). */
  signedIn: Exchanged;
  /** How changes arrive now. */
  transport: Transport;
  /** A failure the login cannot get past by itself (it is also how `start()` rejects). */
  error: ScanGateError;
}

const TERMINAL: ReadonlySet<QrStatus> = new Set(['consumed', 'expired', 'cancelled']);

interface Current extends QrSessionInfo {
  pollToken: string;
  status: QrStatus;
  version: number;
}

/**
 * One QR login on a page: creates the QR session, shows it, follows it over
 * Socket.IO `/qr` (HTTP long polls while the socket is down or blocked),
 * renews it when it expires, and exchanges it once confirmed.
 */
export class QrLogin extends Emitter<QrLoginEvents> {
  private readonly api: QrApi;
  private readonly options: Required<
    Pick<QrLoginOptions, 'autoRenew' | 'attemptMs' | 'socketTimeoutMs' | 'longPollSeconds' | 'image'>
  > &
    QrLoginOptions;
  private current: Current | null = null;
  private element: HTMLElement | null = null;
  /** Bumped by every new QR session and by stop(): work of an older generation is dropped. */
  private generation = 0;
  private attemptStartedAt = 0;
  private socket: Socket | null = null;
  private pollAbort: AbortController | null = null;
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private exchanging = false;
  /** When the current QR session was created (this clock), and how many renewals in a row came too soon. */
  private openedAt = 0;
  private hastyRenewals = 0;
  /** The last time the server answered about this QR session (socket connected or a status received). */
  private lastHeardAt = 0;
  private currentTransport: Transport | null = null;

  constructor(options: QrLoginOptions = {}) {
    super();
    const baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
    this.options = {
      autoRenew: true,
      attemptMs: 5 * 60_000,
      socketTimeoutMs: 3_000,
      longPollSeconds: 25,
      image: 'svg',
      ...options,
      baseUrl,
    };
    this.api = new QrApi(baseUrl, options.fetch ?? ((...args) => fetch(...args)));
  }

  /** The QR code shown now and its state (null before `start()`). */
  get state(): (QrSessionInfo & { status: QrStatus; version: number }) | null {
    if (!this.current) return null;
    const { pollToken: _secret, ...visible } = this.current;
    return visible;
  }

  get transport(): Transport | null {
    return this.currentTransport;
  }

  /** Create a QR session and follow it; draws into `element` when given. Rejects when it cannot be created. */
  async start(element?: HTMLElement): Promise<void> {
    if (element) this.element = element;
    this.attemptStartedAt = Date.now();
    this.hastyRenewals = 0;
    await this.open();
  }

  /** A new QR code now (the "new code" button): also restarts the auto-renew window. */
  renew(): Promise<void> {
    return this.start();
  }

  /** Stop following (the page is leaving, or the user signed in another way). */
  stop(): void {
    this.generation++;
    this.teardown();
  }

  private async open(): Promise<void> {
    const generation = ++this.generation;
    this.teardown();
    this.exchanging = false;
    let created: CreatedQrSession;
    try {
      created = await this.api.create(this.options.returnTo);
    } catch (error) {
      if (generation === this.generation) this.fail(error);
      throw error;
    }
    if (generation !== this.generation) return;
    this.current = {
      id: created.id,
      pollToken: created.pollToken,
      status: created.status,
      version: created.version,
      expiresAt: created.expiresAt,
      qrContent: created.qrContent,
      imageUrl: this.api.url(this.options.image === 'png' ? created.qrImage.png : created.qrImage.svg),
      matchCode: created.matchCode ?? null,
    };
    this.openedAt = Date.now();
    this.draw();
    const { pollToken: _secret, status: _s, version: _v, ...info } = this.current;
    this.emit('session', info);
    this.announce({ id: created.id, status: created.status, version: created.version, expiresAt: created.expiresAt });
    this.lastHeardAt = Date.now();
    this.follow(generation);
    this.watchClock(generation, Date.parse(created.expiresAt) - Date.now());
  }

  /**
   * Its own clock too: a code past its time while nothing reaches the server
   * (no socket, no long poll answered lately) must not look alive. While the
   * server is heard, its own `expired` decides (clocks may differ).
   */
  private watchClock(generation: number, lifetimeMs: number): void {
    const wait = Number.isFinite(lifetimeMs) && lifetimeMs > 0 && lifetimeMs < 3_600_000 ? lifetimeMs + 5_000 : 300_000;
    this.later(wait, () => {
      if (generation !== this.generation || this.terminal()) return;
      if (this.socket?.connected || Date.now() - this.lastHeardAt < 35_000) return this.watchClock(generation, 5_000);
      this.gone(generation);
    });
  }

  private follow(generation: number): void {
    const current = this.current!;
    const socket = (this.options.io ?? connectSocket)(`${this.options.baseUrl}/qr`, {
      auth: { id: current.id, pollToken: current.pollToken },
      // WebSocket only: no sticky sessions needed behind a load balancer; the
      // long poll below is the fallback when WebSockets are blocked.
      transports: ['websocket'],
      forceNew: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5_000,
    });
    this.socket = socket;
    const live = () => generation === this.generation && !this.terminal();
    socket.on('connect', () => {
      if (!live()) return;
      this.lastHeardAt = Date.now();
      this.pollAbort?.abort();
      this.setTransport('socket');
    });
    socket.on('qr.status', (body: QrStatusBody) => this.apply(generation, body));
    socket.on('connect_error', (error: Error) => {
      if (!live()) return;
      if (!socket.active && error.message === 'qr.not_found') return this.gone(generation);
      this.longPoll(generation);
      // Refused for another reason (rate limit, origin): try the socket again later.
      if (!socket.active) this.later(10_000, () => live() && socket.connect());
    });
    socket.on('disconnect', (reason: string) => {
      if (!live()) return;
      this.longPoll(generation);
      if (reason === 'io server disconnect') this.later(1_000, () => live() && socket.connect());
    });
    this.later(this.options.socketTimeoutMs, () => live() && !socket.connected && this.longPoll(generation));
  }

  /** HTTP long polls while the socket is not connected; ends when it connects or the login ends. */
  private longPoll(generation: number): void {
    if (this.pollAbort && !this.pollAbort.signal.aborted) return;
    const abort = new AbortController();
    this.pollAbort = abort;
    const running = () =>
      generation === this.generation && !this.terminal() && !abort.signal.aborted && !this.socket?.connected;
    this.setTransport('long-poll');
    void (async () => {
      let failures = 0;
      while (running()) {
        const current = this.current!;
        try {
          const body = await this.api.status(current.id, current.pollToken, {
            seconds: this.options.longPollSeconds,
            afterVersion: current.version,
            signal: abort.signal,
          });
          failures = 0;
          if (!running()) break;
          this.apply(generation, body);
        } catch (error) {
          if (!running()) break;
          if (error instanceof ScanGateError && error.code === 'qr.not_found') return this.gone(generation);
          if (error instanceof ScanGateError && !error.transient) {
            // Refused for good (a bad option, a proxy answering 4xx): say so once; the socket may still recover.
            this.fail(error);
            break;
          }
          failures++;
          const wait =
            error instanceof ScanGateError && error.retryAfterSeconds
              ? error.retryAfterSeconds * 1_000
              : Math.min(500 * 2 ** failures, 10_000);
          await this.sleep(wait, abort.signal);
        }
      }
      if (this.pollAbort === abort) abort.abort();
    })();
  }

  /** A status from the socket or a long poll: applied once, in version order. */
  private apply(generation: number, body: QrStatusBody): void {
    const current = this.current;
    if (generation !== this.generation || !current || body.id !== current.id) return;
    this.lastHeardAt = Date.now();
    if (!(body.version > current.version)) return;
    current.status = body.status;
    current.version = body.version;
    current.expiresAt = body.expiresAt;
    this.announce(body);
    if (body.status === 'confirmed') void this.exchange(generation);
    else if (body.status === 'expired') this.expired();
    else if (TERMINAL.has(body.status)) this.teardown();
  }

  /** The server no longer knows this QR session (expired long ago, or lost with an in-memory store). */
  private gone(generation: number): void {
    const current = this.current;
    if (generation !== this.generation || !current) return;
    this.apply(generation, {
      id: current.id,
      status: 'expired',
      version: current.version + 1,
      expiresAt: current.expiresAt,
    });
  }

  /**
   * Renew by itself within the attempt window; after it, the page offers a new
   * code. A code that died young (the server forgot it at once: a
   * misconfigured cluster) is renewed after a growing pause, not in a loop.
   */
  private expired(): void {
    this.teardown();
    if (!this.options.autoRenew || Date.now() - this.attemptStartedAt >= this.options.attemptMs) return;
    this.hastyRenewals = Date.now() - this.openedAt < 5_000 ? this.hastyRenewals + 1 : 0;
    const renew = () => this.open().catch(() => undefined); // the failure was reported as `error`; the page still shows "expired"
    if (this.hastyRenewals <= 1)
      void renew(); // one young death (a server restart) costs nothing
    else this.later(Math.min(1_000 * 2 ** (this.hastyRenewals - 1), 30_000), renew);
  }

  private async exchange(generation: number): Promise<void> {
    if (this.exchanging) return;
    this.exchanging = true;
    const current = this.current!;
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.api.exchange(current.id, current.pollToken);
        if (generation !== this.generation) return;
        // The server announces `consumed` itself, often before this answer: announce it only if it has not.
        if (current.status !== 'consumed')
          this.apply(generation, {
            id: current.id,
            status: 'consumed',
            version: current.version + 1,
            expiresAt: current.expiresAt,
          });
        this.teardown();
        this.emit('signedIn', result);
        return;
      } catch (error) {
        if (generation !== this.generation) return;
        if (error instanceof ScanGateError && error.transient && attempt < 10) {
          // The server restarting or the store failing over: a confirmed session waits for us.
          await this.sleep(
            error.retryAfterSeconds ? error.retryAfterSeconds * 1_000 : Math.min(500 * 2 ** attempt, 5_000),
          );
          if (generation !== this.generation) return;
          continue;
        }
        if (error instanceof ScanGateError && (error.code === 'qr.expired' || error.code === 'qr.not_found'))
          return this.gone(generation);
        this.teardown();
        this.fail(error);
        return;
      }
    }
  }

  private announce(body: QrStatusBody): void {
    const event = { id: body.id, status: body.status, version: body.version, expiresAt: body.expiresAt };
    this.element?.setAttribute('data-qr-status', body.status);
    this.emit('status', event);
    this.emit(body.status, event);
  }

  private setTransport(transport: Transport): void {
    if (this.currentTransport === transport) return;
    this.currentTransport = transport;
    this.element?.setAttribute('data-qr-transport', transport);
    this.emit('transport', transport);
  }

  private fail(error: unknown): void {
    this.emit('error', error instanceof ScanGateError ? error : new ScanGateError('internal', String(error), 0));
  }

  private terminal(): boolean {
    return !this.current || TERMINAL.has(this.current.status);
  }

  private draw(): void {
    const element = this.element;
    const current = this.current;
    if (!element || !current) return;
    const doc = element.ownerDocument;
    const image = doc.createElement('img');
    image.src = current.imageUrl;
    image.alt = this.options.labels?.qrAlt ?? 'QR code: scan it with your phone to sign in';
    image.width = image.height = 240;
    image.setAttribute('data-qr-image', '');
    const parts: Node[] = [image];
    if (current.matchCode) {
      const line = doc.createElement('p');
      line.className = 'scangate-match';
      const label = doc.createElement('span');
      label.textContent = this.options.labels?.matchCode ?? 'On your phone, pick';
      const code = doc.createElement('strong');
      code.setAttribute('data-match-code', '');
      code.textContent = current.matchCode;
      line.append(label, ' ', code);
      parts.push(line);
    }
    element.setAttribute('data-qr', '');
    element.replaceChildren(...parts);
  }

  private teardown(): void {
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    this.socket = null;
    this.pollAbort?.abort();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private later(ms: number, run: () => unknown): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }

  private sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/** `const login = createQrLogin({ baseUrl }); login.on('status', …); await login.start(element)`. */
export function createQrLogin(options?: QrLoginOptions): QrLogin {
  return new QrLogin(options);
}
