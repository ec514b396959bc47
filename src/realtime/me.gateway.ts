import { Inject, Logger, UseFilters, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { Namespace, Socket } from 'socket.io';
import { z } from 'zod';
import {
  AccountEvents,
  type AccountEvent,
  type NewIdentityLink,
  type NewLogin,
  AuthError,
  type Principal,
  AccessTokenService,
} from '../auth/index.js';

import { Clock, ValidationError, type ErrorEnvelope } from '../common/index.js';

import { REALTIME_CONFIG, type RealtimeConfig } from '../config/index.js';
import { QrEventsHub, viewOfEvent, type QrEvent, type QrStatusView } from '../qr-login/index.js';

import { RateLimiter } from '../rate-limit/index.js';
import { clientIpOf } from './realtime.io-adapter.js';
import { RealtimeMetrics } from './realtime.metrics.js';
import { admitHandshakes, ERROR_EVENT, envelopeOf } from './socket-errors.js';
import { SocketExceptionsFilter } from './socket-exceptions.filter.js';
import { socketConnectLimit } from './socket-limits.js';

/** What the server sends on `/me`. */
interface MeServerEvents {
  /** This session was revoked (or its user disabled): the socket is closed right after. */
  'session.revoked': (payload: { sessionId: string }) => void;
  /** A new web session of this user (QR, password or OAuth): "not me?" → `DELETE /api/v1/me/sessions/{sessionId}`. */
  'login.new': (login: NewLogin) => void;
  /** A way to sign in was added to this user (a provider linked): "not me?" → `DELETE /api/v1/me/identities/{identityId}`. */
  'identity.linked': (link: NewIdentityLink) => void;
  /** A QR session this phone scanned changed (confirmed elsewhere, cancelled, expired, consumed). */
  'qr.status': (view: QrStatusView) => void;
  exception: (envelope: ErrorEnvelope) => void;
}

interface MeSocketData {
  principal: Principal;
  expiresAtMs: number;
  timer?: NodeJS.Timeout;
}
type MeSocket = Socket<Record<string, never>, MeServerEvents, Record<string, never>, MeSocketData>;

const sessionRoom = (sessionId: string) => `session:${sessionId}`;
const userRoom = (userId: string) => `user:${userId}`;
const RefreshBody = z.strictObject({ token: z.string().min(1).max(4096) });

/**
 * Namespace `/me`: a signed-in phone's channel. Handshake with the access
 * token of a *mobile* device session (`auth: { token }`, or an `Authorization:
 * Bearer` header); refused when it is invalid, expired, revoked, or a web
 * session's. Pushes `session.revoked` (then disconnect), `login.new` and the
 * `qr.status` of QR sessions this phone scanned; the events come from the
 * store's pub/sub, so it does not matter which instance they happened on.
 *
 * An access token lives minutes: when it expires the socket gets an
 * `exception` with `auth.unauthenticated` and is closed, unless the phone sent
 * `auth.refresh` `{ token }` with a newer access token of the same session
 * before then (acknowledged with `{ expiresAt }`).
 */
@WebSocketGateway({ namespace: '/me' })
@UseFilters(SocketExceptionsFilter)
export class MeGateway
  implements OnModuleInit, OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, OnModuleDestroy
{
  private readonly logger = new Logger('MeGateway');
  @WebSocketServer() private readonly nsp!: Namespace;
  private unwatch?: () => void;
  private unsubscribe?: () => Promise<void>;

  constructor(
    private readonly tokens: AccessTokenService,
    private readonly accountEvents: AccountEvents,
    private readonly hub: QrEventsHub,
    private readonly limiter: RateLimiter,
    private readonly metrics: RealtimeMetrics,
    private readonly clock: Clock,
    @Inject(REALTIME_CONFIG) private readonly config: RealtimeConfig,
  ) {}

  /** Subscribes once the store is connected (gateways are set up before the modules' init hooks run). */
  async onModuleInit(): Promise<void> {
    await this.subscribe();
  }

  afterInit(nsp: Namespace): void {
    admitHandshakes(
      nsp,
      (socket) => this.admit(socket as MeSocket),
      (code) => this.metrics.refusedHandshake('/me', code),
      this.logger,
    );
    this.unwatch = this.hub.watch((event) => this.forwardQr(event));
  }

  async onModuleDestroy(): Promise<void> {
    this.unwatch?.();
    await this.unsubscribe?.().catch(() => undefined);
  }

  async handleConnection(socket: MeSocket): Promise<void> {
    this.metrics.connected('/me');
    const { principal } = socket.data;
    await socket.join([sessionRoom(principal.sessionId), userRoom(principal.userId)]);
    this.armExpiry(socket);
    // Revoked between the handshake's check and the join (its event went to nobody)?
    try {
      await this.tokens.assertNotRevoked(principal.sessionId);
    } catch {
      this.revoked(socket);
    }
  }

  handleDisconnect(socket: MeSocket): void {
    this.metrics.disconnected('/me');
    clearTimeout(socket.data?.timer);
  }

  /** A newer access token of the same session keeps the socket open past the old one's expiry. */
  @SubscribeMessage('auth.refresh')
  async refresh(
    @ConnectedSocket() socket: MeSocket,
    @MessageBody() body: unknown,
  ): Promise<{ expiresAt: string } | { error: ErrorEnvelope }> {
    try {
      const parsed = RefreshBody.safeParse(body);
      if (!parsed.success)
        throw new ValidationError([{ path: 'token', message: 'expected { "token": "<access token>" }' }]);
      const { principal, expiresAtMs } = await this.tokens.verify(parsed.data.token);
      if (principal.sessionId !== socket.data.principal.sessionId)
        throw new AuthError('auth.forbidden', 'That token belongs to another session.');
      socket.data.principal = principal;
      socket.data.expiresAtMs = expiresAtMs;
      this.armExpiry(socket);
      return { expiresAt: new Date(expiresAtMs).toISOString() };
    } catch (error) {
      return { error: envelopeOf(error, socket.request, this.logger) };
    }
  }

  private async admit(socket: MeSocket): Promise<void> {
    await this.limiter.consume([socketConnectLimit(this.config, clientIpOf(socket.request))]);
    const { principal, expiresAtMs } = await this.tokens.verify(tokenOf(socket));
    if (principal.kind !== 'mobile')
      throw new AuthError('auth.forbidden', 'Only a signed-in phone (a mobile device session) can open this channel.');
    socket.data = { principal, expiresAtMs };
  }

  private armExpiry(socket: MeSocket): void {
    clearTimeout(socket.data.timer);
    const ms = Math.max(0, socket.data.expiresAtMs - this.clock.now());
    socket.data.timer = setTimeout(() => {
      socket.emit(
        ERROR_EVENT,
        envelopeOf(
          new AuthError(
            'auth.unauthenticated',
            'The access token expired; send auth.refresh with a new one, or reconnect.',
          ),
          socket.request,
          this.logger,
        ),
      );
      this.metrics.emitted('/me', ERROR_EVENT);
      socket.disconnect();
    }, ms);
    socket.data.timer.unref();
  }

  private async subscribe(): Promise<void> {
    try {
      this.unsubscribe = await this.accountEvents.subscribe((event) => this.forwardAccount(event));
    } catch {
      // The store reconnects by itself; until then phones hear nothing (their tokens are still checked).
      this.logger.warn('Could not subscribe to account events (store unavailable); retrying in the background');
      setTimeout(() => void this.subscribe(), 1_000).unref();
    }
  }

  private forwardAccount(event: AccountEvent): void {
    if (event.type === 'session.revoked') {
      for (const sessionId of event.sessionIds)
        for (const socket of this.local(sessionRoom(sessionId))) this.revoked(socket);
    } else if (event.type === 'login.new') {
      for (const socket of this.local(userRoom(event.userId))) {
        socket.emit('login.new', event.login);
        this.metrics.emitted('/me', 'login.new');
      }
    } else if (event.type === 'identity.linked') {
      for (const socket of this.local(userRoom(event.userId))) {
        socket.emit('identity.linked', event.link);
        this.metrics.emitted('/me', 'identity.linked');
      }
    }
  }

  private forwardQr(event: QrEvent): void {
    if (!event.scannerSessionId) return;
    const view = viewOfEvent(event);
    for (const socket of this.local(sessionRoom(event.scannerSessionId))) {
      socket.emit('qr.status', view);
      this.metrics.emitted('/me', 'qr.status');
    }
  }

  private revoked(socket: MeSocket): void {
    socket.emit('session.revoked', { sessionId: socket.data.principal.sessionId });
    this.metrics.emitted('/me', 'session.revoked');
    socket.disconnect();
  }

  /** This instance's sockets in a room. */
  private *local(name: string): Generator<MeSocket> {
    const members = this.nsp.adapter.rooms.get(name);
    if (!members) return;
    for (const socketId of [...members]) {
      const socket = this.nsp.sockets.get(socketId) as MeSocket | undefined;
      if (socket) yield socket;
    }
  }
}

/** The handshake's access token: `auth.token`, else an `Authorization: Bearer` header (clients that set headers). */
function tokenOf(socket: Socket): unknown {
  const fromAuth = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
  if (fromAuth !== undefined) return fromAuth;
  const header = socket.handshake.headers.authorization;
  return typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined;
}
