import { Inject, Logger, UseFilters, type OnModuleDestroy } from '@nestjs/common';
import {
  WebSocketGateway,
  WebSocketServer,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { Namespace, Socket } from 'socket.io';
import type { ErrorEnvelope } from '../common/index.js';

import { REALTIME_CONFIG, type RealtimeConfig } from '../config/index.js';
import {
  QrEventsHub,
  QrLoginError,
  QrStatusService,
  TERMINAL,
  viewOfEvent,
  type QrEvent,
  type QrStatusView,
} from '../qr-login/index.js';

import { RateLimitedError, RateLimiter } from '../rate-limit/index.js';
import { clientIpOf } from './realtime.io-adapter.js';
import { RealtimeMetrics } from './realtime.metrics.js';
import { admitHandshakes, ERROR_EVENT, envelopeOf } from './socket-errors.js';
import { SocketExceptionsFilter } from './socket-exceptions.filter.js';
import { socketConnectLimit } from './socket-limits.js';

/** What a browser socket remembers (server side only): its QR session, its proof, the last version it was sent. */
interface QrSocketData {
  id: string;
  pollToken: string;
  version: number;
}
/** What the server sends on `/qr`. */
interface QrServerEvents {
  'qr.status': (view: QrStatusView) => void;
  exception: (envelope: ErrorEnvelope) => void;
}
type QrSocket = Socket<Record<string, never>, QrServerEvents, Record<string, never>, QrSocketData>;

const room = (id: string) => `qr:${id}`;
/** Ids and poll tokens are 43 base64url characters (256 bits); anything else cannot be valid. */
const TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

/**
 * Namespace `/qr` (PROTOCOL.md): the browser's push channel for one QR
 * session. Handshake `auth: { id, pollToken }`, checked exactly as the HTTP
 * status is (a bad pair is `qr.not_found`). On connect the current status, then
 * one `qr.status` per change in version order (never one older than the last
 * sent), and after a terminal state: that state, then disconnect. Events come
 * from the store's pub/sub through the QR events hub, on every instance; each
 * instance tells its own sockets. The browser never sends anything.
 */
@WebSocketGateway({ namespace: '/qr' })
@UseFilters(SocketExceptionsFilter)
export class QrGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, OnModuleDestroy {
  private readonly logger = new Logger('QrGateway');
  @WebSocketServer() private readonly nsp!: Namespace;
  private unwatch?: () => void;

  constructor(
    private readonly qr: QrStatusService,
    private readonly hub: QrEventsHub,
    private readonly limiter: RateLimiter,
    private readonly metrics: RealtimeMetrics,
    @Inject(REALTIME_CONFIG) private readonly config: RealtimeConfig,
  ) {}

  afterInit(nsp: Namespace): void {
    admitHandshakes(
      nsp,
      (socket) => this.admit(socket as QrSocket),
      (code) => this.metrics.refusedHandshake('/qr', code),
      this.logger,
    );
    this.unwatch = this.hub.watch((event) => this.forward(event));
  }

  onModuleDestroy(): void {
    this.unwatch?.();
  }

  async handleConnection(socket: QrSocket): Promise<void> {
    this.metrics.connected('/qr');
    const { id, pollToken } = socket.data;
    // Join first, then read: a change in between arrives as an event, and the
    // version check drops whichever of the two comes second.
    await socket.join(room(id));
    try {
      this.send(socket, await this.qr.status(id, pollToken));
    } catch (error) {
      socket.emit(ERROR_EVENT, envelopeOf(error, socket.request, this.logger));
      socket.disconnect();
    }
  }

  handleDisconnect(): void {
    this.metrics.disconnected('/qr');
  }

  /** Rate limit per IP, the id and token pair, the cap on sockets per session. */
  private async admit(socket: QrSocket): Promise<void> {
    await this.limiter.consume([socketConnectLimit(this.config, clientIpOf(socket.request))]);
    const { id, pollToken } = (socket.handshake.auth ?? {}) as { id?: unknown; pollToken?: unknown };
    if (typeof id !== 'string' || typeof pollToken !== 'string' || !TOKEN.test(id) || !TOKEN.test(pollToken)) {
      throw new QrLoginError('qr.not_found');
    }
    const view = await this.qr.status(id, pollToken);
    if ((await this.nsp.in(room(id)).fetchSockets()).length >= this.config.maxSocketsPerQr) {
      throw new RateLimitedError('sockets');
    }
    socket.data = { id, pollToken, version: view.version - 1 };
  }

  /** A change of any QR session, from any instance: to this instance's sockets of that session. */
  private forward(event: QrEvent): void {
    const members = this.nsp.adapter.rooms.get(room(event.id));
    if (!members) return;
    const view = viewOfEvent(event);
    for (const socketId of members) {
      const socket = this.nsp.sockets.get(socketId) as QrSocket | undefined;
      if (socket) this.send(socket, view);
    }
  }

  /** Sends a status newer than the last one this socket got; after a terminal one, hangs up. */
  private send(socket: QrSocket, view: QrStatusView): void {
    if (view.version <= socket.data.version) return;
    socket.data.version = view.version;
    socket.emit('qr.status', view);
    this.metrics.emitted('/qr', 'qr.status');
    if (TERMINAL.has(view.status)) socket.disconnect();
  }
}
