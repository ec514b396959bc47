import { Logger, type INestApplication } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';
import type { Server, ServerOptions } from 'socket.io';
import type { AppConfig, RealtimeConfig, StoreConfig } from '../config/index.js';
import { storeRedisOptions } from '../store/index.js';
import { RealtimeMetrics } from './realtime.metrics.js';

/** Largest message a client may send (an access token fits with room to spare). */
const MAX_MESSAGE_BYTES = 8 * 1024;
/** How long a cluster-wide room query (sockets per QR session) waits for the other instances. */
const CLUSTER_REQUEST_TIMEOUT_MS = 2_000;

/** The handshake request, with the client's address as Express would see it (`trust proxy`). */
type HandshakeRequest = IncomingMessage & { clientIp?: string };

/**
 * The Socket.IO server of the app (both namespaces, `/qr` and `/me`, on the
 * HTTP server's port, path `/socket.io`):
 *
 * - heartbeat from the configuration (`SOCKET_PING_INTERVAL_MS`/`_TIMEOUT_MS`);
 * - messages of at most 8 KB; no client bundle served;
 * - CORS for the configured origins only, and, since CORS does not cover
 *   WebSocket upgrades, a handshake with an `Origin` header that is neither the
 *   public URL, nor a configured origin, nor the page's own host (a phone on the
 *   LAN opening http://192.168.…) is refused; clients without one, such as phone
 *   apps, are let in: the handshake's own credentials decide;
 * - the client's IP resolved with the app's `trust proxy` setting, once;
 * - with `REDIS_URL`, the Redis adapter (its own two connections, under the
 *   store's key prefix), so that room queries (how many sockets a QR session
 *   has) span every instance. Events themselves reach each instance through the
 *   store's pub/sub, and every instance tells only its own sockets.
 */
export class RealtimeIoAdapter extends IoAdapter {
  private readonly log = new Logger('Realtime');
  private redis?: { pub: Redis; sub: Redis };

  constructor(
    private readonly app: INestApplication,
    private readonly config: { app: AppConfig; realtime: RealtimeConfig; store: StoreConfig },
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const origins = new Set([this.config.app.publicUrl, ...this.config.app.corsOrigins]);
    const trust = this.app.getHttpAdapter().getInstance().get('trust proxy fn') as (addr: string, i: number) => boolean;
    const server = super.createIOServer(port, {
      ...options,
      path: '/socket.io',
      serveClient: false,
      pingInterval: this.config.realtime.pingIntervalMs,
      pingTimeout: this.config.realtime.pingTimeoutMs,
      maxHttpBufferSize: MAX_MESSAGE_BYTES,
      cors: { origin: [...origins], credentials: false },
      allowRequest: (req: HandshakeRequest, callback: (err: string | null | undefined, success: boolean) => void) => {
        const origin = req.headers.origin;
        if (origin !== undefined && !origins.has(origin) && !sameOrigin(origin, req.headers.host))
          return callback('origin not allowed', false);
        req.clientIp = proxyaddr(req, trust);
        callback(null, true);
      },
    } as ServerOptions) as Server;
    if (this.config.store.mode === 'redis' && this.config.store.url) server.adapter(this.redisAdapter());
    return server;
  }

  override async dispose(): Promise<void> {
    await super.dispose();
    if (!this.redis) return;
    const { pub, sub } = this.redis;
    this.redis = undefined;
    await Promise.all([pub.quit().catch(() => pub.disconnect()), sub.quit().catch(() => sub.disconnect())]);
  }

  private redisAdapter(): ReturnType<typeof createAdapter> {
    const metrics = this.app.get(RealtimeMetrics);
    // The store's settings (fail fast) for what the adapter publishes; its subscriber
    // connects at once and its SUBSCRIBEs wait for Redis (queued, no timeout, no
    // retry limit): the adapter subscribes as it is built, with Redis possibly down.
    const pub = new Redis(this.config.store.url!, {
      ...storeRedisOptions(this.config.store),
      lazyConnect: false,
      enableOfflineQueue: true,
      enableAutoPipelining: false,
    });
    const sub = pub.duplicate({ commandTimeout: undefined, maxRetriesPerRequest: null });
    // The adapter never handles the promises of these commands: a failure (Redis down,
    // a timeout) must be counted and logged, not crash the process as an unhandled rejection.
    for (const client of [pub, sub])
      guardCommands(client, ['publish', 'subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe']);
    let failing = false;
    for (const client of [pub, sub]) {
      client.on('error', (error: Error) => {
        metrics.adapterError();
        if (!failing) this.log.warn(`Socket.IO Redis adapter connection failed: ${error.message}; retrying`);
        failing = true;
      });
      client.on('ready', () => {
        if (failing) this.log.log('Socket.IO Redis adapter connection is back');
        failing = false;
      });
    }
    this.redis = { pub, sub };
    return createAdapter(pub, sub, {
      key: `${this.config.store.keyPrefix}socket.io`,
      requestsTimeout: CLUSTER_REQUEST_TIMEOUT_MS,
    });
  }
}

/** The client's address of a socket's handshake (see `allowRequest`). */
export function clientIpOf(request: IncomingMessage): string {
  return (request as HandshakeRequest).clientIp ?? request.socket.remoteAddress ?? 'unknown';
}

/** Whether `origin` is the host the request was sent to (a same-origin page). */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** Makes the promises of `commands` on `client` handled (the caller may still await them): their failures surface as the client's errors. */
function guardCommands(
  client: Redis,
  commands: Array<'publish' | 'subscribe' | 'psubscribe' | 'unsubscribe' | 'punsubscribe'>,
): void {
  for (const name of commands) {
    const original = (client[name] as (...args: unknown[]) => Promise<unknown>).bind(client);
    (client as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      const result = original(...args);
      result.catch((error: unknown) => client.emit('error', error instanceof Error ? error : new Error(String(error))));
      return result;
    };
  }
}
