import { io, type Socket } from 'socket.io-client';

/** A socket.io-client socket that records what it receives, for tests. */
export interface RecordingSocket {
  socket: Socket;
  /** Every event received, in order: [name, payload]. */
  received: Array<[string, unknown]>;
  /** The payloads of `event` received so far. */
  all<T>(event: string): T[];
  /** Resolves with the nth (0-based) `event` payload once received. */
  nth<T>(event: string, n: number, timeoutMs?: number): Promise<T>;
  /** Resolves when the server disconnects the socket (the reason). */
  disconnected: Promise<string>;
  close(): void;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Connects to `namespace` of the server at `url` (websocket transport unless
 * told otherwise, no automatic reconnection unless asked) and resolves once
 * connected; rejects with the connect error (`message` is the error code,
 * `data` the envelope).
 */
export async function connectSocket(
  url: string,
  namespace: '/qr' | '/me',
  auth: Record<string, unknown>,
  options: {
    transports?: Array<'websocket' | 'polling'>;
    reconnection?: boolean;
    extraHeaders?: Record<string, string>;
    multiplex?: boolean;
  } = {},
): Promise<RecordingSocket> {
  const socket = io(`${url}${namespace}`, {
    path: '/socket.io',
    auth,
    transports: options.transports ?? ['websocket'],
    reconnection: options.reconnection ?? false,
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
    // One connection per socket, unless `multiplex`: then namespaces of one origin share it, as in a browser page.
    forceNew: !options.multiplex,
    extraHeaders: options.extraHeaders,
    timeout: 5_000,
  });
  const received: Array<[string, unknown]> = [];
  socket.onAny((event: string, payload: unknown) => received.push([event, payload]));
  let resolveDisconnect!: (reason: string) => void;
  const disconnected = new Promise<string>((r) => (resolveDisconnect = r));
  socket.on('disconnect', (reason) => resolveDisconnect(reason));
  const recording: RecordingSocket = {
    socket,
    received,
    all: <T>(event: string) => received.filter(([name]) => name === event).map(([, p]) => p as T),
    nth: async <T>(event: string, n: number, timeoutMs = 5_000) => {
      const started = Date.now();
      for (;;) {
        const found = recording.all<T>(event);
        if (found.length > n) return found[n]!;
        if (Date.now() - started > timeoutMs)
          throw new Error(`no ${event} #${n} within ${timeoutMs} ms; received: ${JSON.stringify(received)}`);
        await wait(5);
      }
    },
    disconnected,
    close: () => socket.close(),
  };
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error: Error & { data?: unknown }) => {
      socket.close();
      reject(error);
    });
  });
  return recording;
}

/** The connect error of a handshake the server must refuse. */
export async function refusedHandshake(
  url: string,
  namespace: '/qr' | '/me',
  auth: Record<string, unknown>,
  extraHeaders?: Record<string, string>,
): Promise<Error & { data?: { code: string; message: string; requestId: string } }> {
  try {
    const s = await connectSocket(url, namespace, auth, { extraHeaders });
    s.close();
  } catch (error) {
    return error as Error & { data?: { code: string; message: string; requestId: string } };
  }
  throw new Error(`the ${namespace} handshake was accepted`);
}
