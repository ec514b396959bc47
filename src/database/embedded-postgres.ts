import { Injectable } from '@nestjs/common';
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { mkdir, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSecrets } from '../common/index.js';
import { EmbeddedAuthProxy } from './embedded-auth.proxy.js';
import { PgliteFactory } from './pglite.factory.js';

/** The embedded database's password: made once, kept beside its files (owner only). */
const EMBEDDED_PASSWORD_FILE = 'postgres.password';

/**
 * The zero-configuration stand-in for Postgres: PGlite (Postgres compiled to
 * WASM) served on a random loopback port by pglite-socket, so that the ordinary
 * `pg` driver and TypeORM talk to it exactly as to a real server, with the same
 * migrations. PGlite is one single-user session, so the pool has size 1:
 * concurrent transactions queue in the pool instead of interleaving in one
 * session (the flaw that made `typeorm-pglite` lose rows). The server accepts a
 * second connection only so that a pool replacing a closed connection is not
 * refused while the server is still detaching the old one.
 *
 * A data folder belongs to one process at a time: a lock file with the owner's
 * pid refuses a second process instead of letting two corrupt the files.
 *
 * PGlite itself checks no password, so it listens only on a Unix socket in a
 * private temporary folder; clients come in through `EmbeddedAuthProxy` on
 * loopback, which asks for a generated password (SCRAM-SHA-256) kept in the
 * data folder, readable by its owner only.
 */
@Injectable()
export class EmbeddedPostgres {
  private db?: PGlite;
  private server?: PGLiteSocketServer;
  private proxy?: EmbeddedAuthProxy;
  private socketDir?: string;
  private lockFile?: string;

  constructor(
    private readonly secrets: LocalSecrets,
    private readonly pglite: PgliteFactory,
  ) {}

  /** Starts the database in `dataDir` (`memory://` keeps it in memory) and returns its URL. */
  async start(dataDir: string): Promise<string> {
    if (this.server) throw new Error('The embedded database is already running');
    const inMemory = dataDir === 'memory://';
    if (!inMemory) {
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
      this.lockFile = await acquireLock(join(dataDir, '..', 'postgres.lock'), dataDir);
    }
    let address: string;
    let password: string;
    try {
      // The file's text is the password (so `PGPASSWORD=$(cat DATA_DIR/postgres.password) psql …` works).
      password = (
        await this.secrets.get(inMemory ? 'memory://' : join(dataDir, '..'), EMBEDDED_PASSWORD_FILE)
      ).toString('base64');
      this.db = await this.pglite.create(inMemory ? undefined : dataDir);
      // mkdtemp makes the folder 0700: only this user may even reach the socket.
      this.socketDir = await mkdtemp(join(tmpdir(), 'scangate-pg-'));
      const socketPath = join(this.socketDir, '.s.PGSQL');
      this.server = new PGLiteSocketServer({ db: this.db, path: socketPath, maxConnections: 2 });
      await this.server.start();
      this.proxy = new EmbeddedAuthProxy(password, socketPath);
      address = await this.proxy.listen('127.0.0.1');
    } catch (error) {
      await this.stop();
      throw error;
    }
    return `postgres://postgres:${encodeURIComponent(password)}@${address}/postgres`;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  async stop(): Promise<void> {
    const { proxy, server, db, lockFile, socketDir } = this;
    this.proxy = this.server = this.db = this.lockFile = this.socketDir = undefined;
    try {
      await proxy?.close();
      await server?.stop();
      if (socketDir) await rm(socketDir, { recursive: true, force: true });
    } finally {
      try {
        if (db && !db.closed) await db.close();
      } finally {
        if (lockFile) await rm(lockFile, { force: true });
      }
    }
  }
}

/** Creates `file` holding our pid; refuses when a live process holds it. */
async function acquireLock(file: string, dataDir: string): Promise<string> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return file;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (owner && isAlive(owner)) {
        throw new Error(
          `The embedded database in ${dataDir} is in use by process ${owner}; stop it, or set DATABASE_URL to use a Postgres server`,
          { cause: error },
        );
      }
      await rm(file, { force: true }); // left behind by a process that died
    }
  }
  throw new Error(`Could not lock the embedded database in ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
