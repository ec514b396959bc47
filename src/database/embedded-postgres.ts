import { Injectable } from '@nestjs/common';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

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
 */
@Injectable()
export class EmbeddedPostgres {
  private db?: PGlite;
  private server?: PGLiteSocketServer;
  private lockFile?: string;

  /** Starts the database in `dataDir` (`memory://` keeps it in memory) and returns its URL. */
  async start(dataDir: string): Promise<string> {
    if (this.server) throw new Error('The embedded database is already running');
    const inMemory = dataDir === 'memory://';
    if (!inMemory) {
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
      this.lockFile = await acquireLock(join(dataDir, '..', 'postgres.lock'), dataDir);
    }
    try {
      // pg_trgm: the admin search's trigram indexes (the migrations create the extension).
      this.db = await PGlite.create(inMemory ? undefined : dataDir, { extensions: { pg_trgm } });
      this.server = new PGLiteSocketServer({ db: this.db, host: '127.0.0.1', port: 0, maxConnections: 2 });
      await this.server.start();
    } catch (error) {
      await this.stop();
      throw error;
    }
    return `postgres://postgres@${this.server.getServerConn()}/postgres`;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  async stop(): Promise<void> {
    const { server, db, lockFile } = this;
    this.server = this.db = this.lockFile = undefined;
    try {
      await server?.stop();
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
