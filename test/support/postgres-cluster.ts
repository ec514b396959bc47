import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isExecutable } from './redis-server.js';
import { freePort } from './server-process.js';

/**
 * A private PostgreSQL cluster for tests that stop and restart Postgres under a
 * running app (never the shared server of TEST_DATABASE_URL): `initdb` of the
 * installed PostgreSQL into a temporary folder, listening on 127.0.0.1 only on
 * a free port, its Unix socket in that folder, `trust` authentication (it is
 * private to this process), started and stopped with `pg_ctl`.
 *
 * Postgres refuses to run as root: when the tests run as root, every binary is
 * run as the `postgres` OS user (`runuser`), and the folder belongs to it.
 * `fsync=off`: a stop, even `-m immediate`, kills the server processes but not
 * the machine, so everything committed is still in the WAL the kernel holds.
 */

const RUNUSER = '/usr/sbin/runuser';
const PG_CTL_TIMEOUT_S = 60;

/** The `bin` folder of the newest PostgreSQL installed (Debian layout), or PG_BIN_DIR; undefined when none. */
export function postgresBinDir(): string | undefined {
  const candidates: string[] = [];
  if (process.env.PG_BIN_DIR) candidates.push(process.env.PG_BIN_DIR);
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(root, v, 'bin')));
  }
  return candidates.find((dir) => ['initdb', 'pg_ctl', 'postgres'].every((name) => isExecutable(join(dir, name))));
}

/** Why a private cluster cannot be made on this machine, or undefined when it can. */
export function postgresClusterNeed(): string | undefined {
  if (!postgresBinDir()) return 'no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin';
  if (process.getuid?.() === 0) {
    if (!isExecutable(RUNUSER)) return 'running as root without runuser (Postgres refuses to run as root)';
    if (postgresIds() === undefined)
      return 'running as root without a `postgres` OS user (Postgres refuses to run as root)';
  }
  return undefined;
}

export class PostgresCluster {
  private started = false;

  private constructor(
    private readonly bin: string,
    /** The temporary folder: `data/` (the cluster), the socket, `postgres.log`. */
    readonly dir: string,
    readonly port: number,
  ) {}

  /** `initdb` into a new temporary folder (not started: call `start()`). */
  static async create(): Promise<PostgresCluster> {
    const bin = postgresBinDir();
    if (!bin) throw new Error('PostgreSQL server binaries are not installed');
    const dir = mkdtempSync(join(tmpdir(), 'sg-pg-'));
    const cluster = new PostgresCluster(bin, dir, await freePort());
    try {
      mkdirSync(cluster.dataDir, { mode: 0o700 });
      const owner = process.getuid?.() === 0 ? postgresIds() : undefined;
      if (owner) for (const path of [dir, cluster.dataDir]) chownSync(path, owner.uid, owner.gid);
      await cluster.run('initdb', [
        '-D',
        cluster.dataDir,
        '-U',
        'postgres',
        '-A',
        'trust',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
      ]);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    return cluster;
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust: no password). */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  get running(): boolean {
    return this.started;
  }

  /** The server's log so far (for failure messages). */
  log(): string {
    try {
      return readFileSync(join(this.dir, 'postgres.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** `pg_ctl start -w`: resolves once the server accepts connections (after crash recovery, if any). */
  async start(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      '-c listen_addresses=127.0.0.1',
      `-c unix_socket_directories=${this.dir}`,
      '-c fsync=off',
      '-c full_page_writes=off',
      '-c max_connections=60',
      '-c logging_collector=off',
    ].join(' ');
    await this.run('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      join(this.dir, 'postgres.log'),
      '-o',
      options,
      '-w',
      '-t',
      String(PG_CTL_TIMEOUT_S),
      'start',
    ]);
    this.started = true;
  }

  /**
   * `pg_ctl stop -m <mode> -w`: `immediate` kills every server process at once
   * (as a crash: the next start runs recovery), `fast` ends sessions and shuts
   * down cleanly.
   */
  async stop(mode: 'immediate' | 'fast' | 'smart' = 'fast'): Promise<void> {
    if (!this.started) return;
    await this.run('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', String(PG_CTL_TIMEOUT_S), 'stop']);
    this.started = false;
  }

  /** Stops the server if it runs (immediately) and removes the folder: for `afterAll`, never throws. */
  async destroy(): Promise<void> {
    try {
      if (this.started || existsSync(join(this.dataDir, 'postmaster.pid'))) {
        this.started = true;
        await this.stop('immediate');
      }
    } catch {
      // Already gone: nothing to stop.
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs a PostgreSQL binary (as the `postgres` user when we are root). */
  private run(name: string, args: string[]): Promise<string> {
    const binary = join(this.bin, name);
    const [file, argv] =
      process.getuid?.() === 0 ? [RUNUSER, ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
    return new Promise((resolve, reject) => {
      // cwd: a folder the postgres user may enter (the test's cwd may be root's).
      execFile(
        file,
        argv,
        { cwd: this.dir, timeout: (PG_CTL_TIMEOUT_S + 30) * 1000, env: { PATH: process.env.PATH ?? '', LC_ALL: 'C' } },
        (error, stdout, stderr) => {
          if (error)
            reject(
              new Error(
                `${name} ${args.at(-1)} failed: ${error.message}\n${stdout}${stderr}\n${this.log().slice(-2_000)}`,
              ),
            );
          else resolve(stdout);
        },
      );
    });
  }
}

function postgresIds(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}
