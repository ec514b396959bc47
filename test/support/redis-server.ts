import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Redis } from 'ioredis';

/**
 * Redis helpers for tests. `RedisServer` is a private `redis-server` for tests
 * that stop, freeze and restart Redis: loopback only, on a free port (never the
 * shared 6379), no persistence by default, so a restart comes back empty on the
 * SAME port, as after a crash. With `persistence: 'aof'` it keeps an append-only
 * file in a private temporary folder, fsynced before every reply
 * (`appendfsync always`): a SIGKILL then loses nothing Redis acknowledged, and a
 * restart comes back with the data (as a production Redis with AOF does).
 * Call `destroy()` at the end to stop it and remove that folder.
 */

const FALLBACK_BINARY = '/usr/bin/redis-server';
const START_TIMEOUT_MS = 5_000;

/** The redis-server binary: on PATH, else /usr/bin/redis-server; undefined when neither exists. */
export function redisServerBinary(): string | undefined {
  const candidates = (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, 'redis-server'));
  return [...candidates, FALLBACK_BINARY].find(isExecutable);
}

/** Whether tests can start a private Redis on this machine. */
export function redisServerAvailable(): boolean {
  return redisServerBinary() !== undefined;
}

export interface RedisServerOptions {
  /** Sets `requirepass`: the URL then carries the password, as in production. */
  password?: string;
  /**
   * `'aof'`: append-only file with `appendfsync always` in a private folder, so
   * that data survives `stop()` (SIGKILL) and `start()` again. Default: none.
   */
  persistence?: 'none' | 'aof';
}

export class RedisServer {
  private process: ChildProcess | undefined;

  private constructor(
    private readonly binary: string,
    readonly port: number,
    private readonly password: string | undefined,
    /** The AOF folder with `persistence: 'aof'`, else undefined. */
    readonly dataDir: string | undefined,
  ) {}

  /** Starts a server on a free loopback port and waits until it answers. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const binary = redisServerBinary();
    if (!binary) throw new Error('redis-server is not installed');
    const dataDir = options.persistence === 'aof' ? mkdtempSync(join(tmpdir(), 'sg-redis-aof-')) : undefined;
    const server = new RedisServer(binary, await freePort(), options.password, dataDir);
    try {
      await server.start();
    } catch (error) {
      await server.destroy();
      throw error;
    }
    return server;
  }

  /** `redis://[:password@]127.0.0.1:<port>` */
  get url(): string {
    const auth = this.password === undefined ? '' : `:${encodeURIComponent(this.password)}@`;
    return `redis://${auth}127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.process !== undefined;
  }

  /** (Re)starts the server on the same port; resolves once it answers PING. */
  async start(): Promise<void> {
    if (this.process) return;
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', ''];
    if (this.dataDir === undefined) args.push('--appendonly', 'no');
    else
      args.push(
        '--dir',
        this.dataDir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--aof-use-rdb-preamble',
        'no',
      );
    if (this.password !== undefined) args.push('--requirepass', this.password);
    const child = spawn(this.binary, args, { stdio: 'ignore' });
    this.process = child;
    let exited = false;
    child.once('exit', () => {
      exited = true;
      if (this.process === child) this.process = undefined;
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await answers(this.port))) {
      if (exited) throw new Error(`redis-server exited at start (port ${this.port} taken?)`);
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`redis-server did not answer on port ${this.port} within ${START_TIMEOUT_MS} ms`);
      }
      await sleep(20);
    }
  }

  /** Kills the server (SIGKILL, as a crash) and waits until it has exited. */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child) return;
    this.process = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGCONT'); // a frozen process must be able to die
    child.kill('SIGKILL');
    await exited;
  }

  /** Stops the server (as `stop`) and removes its AOF folder, if any: for `afterAll`. */
  async destroy(): Promise<void> {
    await this.stop();
    if (this.dataDir !== undefined) rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Freezes the server (SIGSTOP): connections stay open but nothing answers. */
  freeze(): void {
    this.process?.kill('SIGSTOP');
  }

  /** Resumes a frozen server. */
  thaw(): void {
    this.process?.kill('SIGCONT');
  }
}

/** Deletes every key under `prefix` with SCAN (never KEYS or FLUSHDB: the Redis may be shared). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** A port the kernel just handed out on 127.0.0.1 (ephemeral range, so never 6379). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Whether a Redis answers PING on the port (NOAUTH also proves it is up). */
async function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}

/** Whether `path` is a file this process may run. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
