import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';

/** Postgres wire protocol codes used here. */
const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
const SCRAM_ITERATIONS = 4096;
/** A startup or SASL message larger than this is not a client of ours. */
const MAX_MESSAGE = 16 * 1024;
/** A client that does not finish authenticating in this time is dropped. */
const AUTH_TIMEOUT_MS = 10_000;

interface ScramKeys {
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

/**
 * The embedded database's front door. PGlite accepts any client without a
 * password, so it listens only on a Unix socket in a private (0700) folder,
 * and clients reach it through this TCP listener on loopback, which asks
 * for the password with SCRAM-SHA-256 (as a real Postgres does) before
 * passing the connection on. A local process without the password, which
 * lives in the owner-only data folder, gets `28P01` and nothing else.
 */
export class EmbeddedAuthProxy {
  private server?: Server;
  private readonly keys: ScramKeys;
  private readonly sockets = new Set<Socket>();

  constructor(
    password: string,
    /** Where the unauthenticated server listens (a Unix socket path). */
    private readonly upstreamPath: string,
  ) {
    const salt = randomBytes(16);
    const salted = pbkdf2Sync(password, salt, SCRAM_ITERATIONS, 32, 'sha256');
    this.keys = {
      salt,
      storedKey: createHash('sha256').update(hmac(salted, 'Client Key')).digest(),
      serverKey: hmac(salted, 'Server Key'),
    };
  }

  /** Listens on `host` (a random port); resolves with `host:port`. */
  async listen(host: string): Promise<string> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    const { port } = server.address() as { port: number };
    return `${host}:${port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.sockets.add(client);
    client.once('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    client.setTimeout(AUTH_TIMEOUT_MS, () => client.destroy());
    const reader = new MessageReader(client);
    this.authenticate(client, reader).catch(() => client.destroy());
  }

  private async authenticate(client: Socket, reader: MessageReader): Promise<void> {
    // Startup: SSL and GSS requests are declined ("N"), then the real startup message.
    let startup: Buffer;
    for (;;) {
      startup = await reader.untyped();
      const code = startup.readInt32BE(4);
      if (code === SSL_REQUEST || code === GSS_REQUEST) {
        client.write('N');
        continue;
      }
      if (code === CANCEL_REQUEST) return void client.end();
      if (code !== PROTOCOL_3) return this.refuse(client, '08P01', 'unsupported frontend protocol');
      break;
    }
    const user = startupParameter(startup, 'user') ?? '';

    // SCRAM-SHA-256 (RFC 5802, RFC 7677), without channel binding.
    client.write(authentication(10, Buffer.from('SCRAM-SHA-256\0\0')));
    const initial = await reader.typed('p');
    const mechanismEnd = initial.indexOf(0);
    if (initial.subarray(0, mechanismEnd).toString() !== 'SCRAM-SHA-256')
      return this.refuse(client, '28000', 'unsupported SASL mechanism');
    const clientFirst = initial.subarray(mechanismEnd + 5).toString('utf8');
    const gs2 = /^([ny]),,(.*)$/.exec(clientFirst);
    const clientFirstBare = gs2?.[2] ?? '';
    const clientNonce = /(?:^|,)r=([^,]+)/.exec(clientFirstBare)?.[1];
    if (!gs2 || !clientNonce) return this.refuse(client, '08P01', 'malformed SCRAM message');
    const nonce = `${clientNonce}${randomBytes(18).toString('base64')}`;
    const serverFirst = `r=${nonce},s=${this.keys.salt.toString('base64')},i=${SCRAM_ITERATIONS}`;
    client.write(authentication(11, Buffer.from(serverFirst)));

    const clientFinal = (await reader.typed('p')).toString('utf8');
    const proofAt = clientFinal.lastIndexOf(',p=');
    const withoutProof = clientFinal.slice(0, Math.max(0, proofAt));
    const proof = Buffer.from(clientFinal.slice(proofAt + 3), 'base64');
    if (proofAt < 0 || /(?:^|,)r=([^,]+)/.exec(withoutProof)?.[1] !== nonce)
      return this.refuse(client, '08P01', 'malformed SCRAM message');
    const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = hmac(this.keys.storedKey, authMessage);
    const clientKey =
      proof.length === signature.length ? Buffer.from(proof.map((b, i) => b ^ signature[i]!)) : Buffer.alloc(0);
    const ok =
      clientKey.length === 32 && timingSafeEqual(createHash('sha256').update(clientKey).digest(), this.keys.storedKey);
    if (!ok)
      return this.refuse(
        client,
        '28P01',
        `password authentication failed for user "${user.replace(/[^\w.@-]/g, '?')}"`,
      );
    client.write(authentication(12, Buffer.from(`v=${hmac(this.keys.serverKey, authMessage).toString('base64')}`)));

    // Authenticated: hand the connection (startup first) to the database; it answers AuthenticationOk.
    client.setTimeout(0);
    const upstream = connect(this.upstreamPath);
    this.sockets.add(upstream);
    upstream.once('close', () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
    client.once('close', () => upstream.destroy());
    upstream.on('error', () => upstream.destroy());
    upstream.write(startup);
    const rest = reader.detach();
    if (rest.length > 0) upstream.write(rest);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** ErrorResponse (FATAL), then the connection ends. */
  private refuse(client: Socket, code: string, message: string): void {
    const fields = Buffer.concat([
      field('S', 'FATAL'),
      field('V', 'FATAL'),
      field('C', code),
      field('M', message),
      Buffer.from([0]),
    ]);
    client.end(Buffer.concat([Buffer.from('E'), int32(fields.length + 4), fields]));
  }
}

/** Reads whole protocol messages from a socket until `detach`. */
class MessageReader {
  private buffer = Buffer.alloc(0);
  private waiting?: () => void;
  private failed?: Error;
  private readonly onData = (chunk: Buffer) => {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    this.waiting?.();
  };
  private readonly onEnd = () => {
    this.failed = new Error('connection closed');
    this.waiting?.();
  };

  constructor(private readonly socket: Socket) {
    socket.on('data', this.onData);
    socket.once('close', this.onEnd);
  }

  /** A message without a type byte (the startup ones): length, then body. */
  async untyped(): Promise<Buffer> {
    await this.have(4);
    const length = this.buffer.readInt32BE(0);
    if (length < 8 || length > MAX_MESSAGE) throw new Error('bad startup length');
    await this.have(length);
    return this.take(length);
  }

  /** A typed message's body (e.g. `p`, a password or SASL message). */
  async typed(type: string): Promise<Buffer> {
    await this.have(5);
    if (String.fromCharCode(this.buffer[0]!) !== type) throw new Error('unexpected message');
    const length = this.buffer.readInt32BE(1);
    if (length < 4 || length > MAX_MESSAGE) throw new Error('bad message length');
    await this.have(length + 1);
    return this.take(length + 1).subarray(5);
  }

  /** Stops reading; what arrived beyond the last message. */
  detach(): Buffer {
    this.socket.off('data', this.onData);
    this.socket.off('close', this.onEnd);
    const rest = this.buffer;
    this.buffer = Buffer.alloc(0);
    return rest;
  }

  private take(length: number): Buffer {
    const message = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    return message;
  }

  private async have(length: number): Promise<void> {
    while (this.buffer.length < length) {
      if (this.failed) throw this.failed;
      await new Promise<void>((resolve) => (this.waiting = resolve));
      this.waiting = undefined;
    }
  }
}

function startupParameter(startup: Buffer, name: string): string | undefined {
  const parts = startup.subarray(8).toString('utf8').split('\0');
  for (let i = 0; i + 1 < parts.length; i += 2) if (parts[i] === name) return parts[i + 1];
  return undefined;
}

function authentication(code: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from('R'), int32(data.length + 8), int32(code), data]);
}

function field(type: string, value: string): Buffer {
  return Buffer.concat([Buffer.from(type), Buffer.from(value, 'utf8'), Buffer.from([0])]);
}

function int32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(value);
  return b;
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
