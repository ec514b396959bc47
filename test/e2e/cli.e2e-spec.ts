import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import request from 'supertest';
import { freshDatabase } from '../support/fresh-database.js';
import { assertBuilt, freePort, startServer, waitForOk, type ServerProcess } from '../support/server-process.js';
import { describeWith } from '../support/services.js';
import { TEST_DATABASE_URL } from '../support/test-config.js';
import { decodeJwt } from '../support/tokens.js';

/**
 * The operator's tools as they are run (issue 3 § Bootstrap), from the built
 * `dist/`: `admin:create`, `keys:rotate`, and the demo user of the
 * zero-configuration mode. Everything runs in a temporary folder, so no `.env`
 * of the developer is read.
 */

const ADMIN_CLI = resolve('dist/src/admin/admin-create.cli.js');
const KEYS_CLI = resolve('dist/src/auth/keys/keys.cli.js');
const PASSWORD = 'a long enough admin passphrase';
const DEMO_LINE = /demo user: login "([^"]+)", password "([^"]+)"/;
const SLOW = 60_000;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a built CLI with exactly `env` (plus PATH) in `cwd`. */
function runCli(script: string, args: string[], env: Record<string, string>, cwd: string): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

/** Starts the built server and waits until it is ready and has printed its banner. */
async function serve(env: Record<string, string>, cwd: string): Promise<{ server: ServerProcess; url: string }> {
  const port = await freePort();
  const server = startServer({ PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env }, cwd);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForOk(`${url}/health/ready`, 90_000, server.exited);
    const deadline = Date.now() + 2_000;
    while (!server.stdout().includes('ScanGate') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  } catch (error) {
    server.child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\nstdout: ${server.stdout()}\nstderr: ${server.stderr()}`, {
      cause: error,
    });
  }
  return { server, url };
}

async function stop(server: ServerProcess): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
}

async function signIn(
  url: string,
  login: string,
  password: string,
): Promise<{ accessToken: string; user: { id: string; roles: string[] } }> {
  const res = await request(url).post('/api/v1/auth/login').send({ login, password });
  expect({ status: res.status, code: res.body.code }).toEqual({ status: 200, code: undefined });
  return res.body;
}

describe('operator CLIs and the demo user (built server)', () => {
  let dir: string;

  beforeAll(async () => {
    assertBuilt();
    dir = await mkdtemp(join(tmpdir(), 'scangate-cli-'));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('admin:create and keys:rotate on an embedded data folder', () => {
    let env: Record<string, string>;
    /** The administrator's id and an access token signed before the rotation. */
    let adminId: string;
    let tokenBeforeRotation: string;

    beforeAll(() => {
      // A fixed issuer: without PUBLIC_URL it is http://localhost:<PORT>, and each start has its own port.
      env = { DATA_DIR: join(dir, 'admin-data'), PUBLIC_URL: 'http://scangate.test' };
    });

    it(
      'creates an administrator (exit 0) who then signs in on the server and uses an admin route',
      async () => {
        const created = await runCli(
          ADMIN_CLI,
          ['--login', 'Boss', '--password', PASSWORD, '--display-name', 'The Boss'],
          env,
          dir,
        );
        expect(created).toMatchObject({ code: 0, stderr: '' });
        const match = /Created administrator "boss" \(([0-9a-f-]{36})\)/.exec(created.stdout);
        expect(match).not.toBeNull();
        adminId = match![1]!;

        const { server, url } = await serve(env, dir);
        try {
          const session = await signIn(url, 'boss', PASSWORD);
          expect(session.user).toMatchObject({ id: adminId, roles: expect.arrayContaining(['admin']) });
          tokenBeforeRotation = session.accessToken;
          const auth = { Authorization: `Bearer ${session.accessToken}` };
          const me = await request(url).get(`/api/v1/admin/users/${adminId}`).set(auth).expect(200);
          expect(me.body).toMatchObject({ id: adminId, login: 'boss', displayName: 'The Boss', status: 'active' });
          await request(url)
            .post('/api/v1/admin/users')
            .set(auth)
            .send({ login: 'made-by-boss', password: 'another long passphrase', displayName: 'Made' })
            .expect(201);
        } finally {
          await stop(server);
        }
      },
      SLOW,
    );

    it(
      'refuses a login that exists (any case) with exit ≠ 0 and a message saying it is taken',
      async () => {
        for (const login of ['boss', 'BOSS']) {
          const again = await runCli(ADMIN_CLI, ['--login', login, '--password', PASSWORD], env, dir);
          expect(again.code).not.toBe(0);
          expect(again.stderr).toMatch(/taken/);
          expect(again.stdout).not.toMatch(/Created/);
        }
      },
      SLOW,
    );

    it(
      'refuses a weak password with exit ≠ 0 and a message about the password',
      async () => {
        const short = await runCli(ADMIN_CLI, ['--login', 'weakling', '--password', 'short'], env, dir);
        expect(short.code).not.toBe(0);
        expect(short.stderr).toMatch(/password must be at least 10 characters/);
        expect(short.stdout).not.toMatch(/Created/);
        const sameAsLogin = await runCli(ADMIN_CLI, ['--login', 'weakling123', '--password', 'Weakling123'], env, dir);
        expect(sameAsLogin.code).not.toBe(0);
        expect(sameAsLogin.stderr).toMatch(/password must not be the login/);
      },
      SLOW,
    );

    it('prints its usage and exits 2 without --login/--password, or with an unknown option', async () => {
      const bare = await runCli(ADMIN_CLI, [], env, dir);
      expect(bare.code).toBe(2);
      expect(bare.stderr).toMatch(/usage: npm run admin:create -- --login <login> --password <password>/);
      const unknown = await runCli(ADMIN_CLI, ['--login', 'x', '--password', PASSWORD, '--admin'], env, dir);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/admin:create: .*--admin/);
      const keys = await runCli(KEYS_CLI, [], env, dir);
      expect(keys.code).toBe(2);
      expect(keys.stderr).toMatch(/usage: npm run keys:rotate/);
    });

    it(
      'keys:rotate (exit 0): the server then serves 2 keys, new tokens carry the new kid, tokens from before still work',
      async () => {
        expect(tokenBeforeRotation).toBeDefined();
        const oldKid = decodeJwt(tokenBeforeRotation).header.kid as string;
        const rotated = await runCli(KEYS_CLI, ['rotate'], env, dir);
        expect(rotated).toMatchObject({ code: 0, stderr: '' });
        const newKid = /New signing key (\S+);/.exec(rotated.stdout)?.[1];
        expect(newKid).toBeDefined();
        expect(newKid).not.toBe(oldKid);

        const { server, url } = await serve(env, dir);
        try {
          const jwks = await request(url).get('/.well-known/jwks.json').expect(200);
          expect((jwks.body.keys as Array<{ kid: string }>).map((k) => k.kid).sort()).toEqual([oldKid, newKid!].sort());
          await request(url)
            .get('/api/v1/me')
            .set({ Authorization: `Bearer ${tokenBeforeRotation}` })
            .expect(200);
          const fresh = await signIn(url, 'boss', PASSWORD);
          expect(decodeJwt(fresh.accessToken).header.kid).toBe(newKid);
        } finally {
          await stop(server);
        }
      },
      SLOW,
    );
  });

  describe('the demo user (zero configuration)', () => {
    it(
      'is printed in the banner, signs in, and a restart prints the same credentials',
      async () => {
        const env = { DATA_DIR: join(dir, 'demo-data') };
        const first = await serve(env, dir);
        let credentials: { login: string; password: string };
        try {
          const line = DEMO_LINE.exec(first.server.stdout());
          expect(line).not.toBeNull();
          credentials = { login: line![1]!, password: line![2]! };
          expect(credentials.login).toBe('demo');
          expect(credentials.password.length).toBeGreaterThanOrEqual(10);
          const session = await signIn(first.url, credentials.login, credentials.password);
          expect(session.user.roles).toEqual(expect.arrayContaining(['user', 'admin']));
        } finally {
          await stop(first.server);
        }

        const second = await serve(env, dir);
        try {
          const line = DEMO_LINE.exec(second.server.stdout());
          expect(line?.slice(1)).toEqual([credentials.login, credentials.password]);
          await signIn(second.url, credentials.login, credentials.password);
        } finally {
          await stop(second.server);
        }
      },
      SLOW,
    );
  });

  describeWith(
    TEST_DATABASE_URL ? undefined : 'TEST_DATABASE_URL is not set',
    'with DATABASE_URL (real Postgres)',
    () => {
      let db: { url: string; drop(): Promise<void> };

      beforeAll(async () => {
        db = await freshDatabase(TEST_DATABASE_URL!);
      });

      afterAll(async () => {
        await db?.drop();
      });

      it(
        'admin:create writes to that database; the server shows no demo line and makes no demo user',
        async () => {
          const env = { DATABASE_URL: db.url, DATA_DIR: join(dir, 'unused-with-database-url') };
          const created = await runCli(ADMIN_CLI, ['--login', 'pgadmin', '--password', PASSWORD], env, dir);
          expect(created).toMatchObject({ code: 0, stderr: '' });

          const { server, url } = await serve(env, dir);
          try {
            expect(server.stdout()).toContain('ScanGate');
            expect(server.stdout()).toContain('real services');
            expect(server.stdout()).not.toMatch(/demo user/);
            const session = await signIn(url, 'pgadmin', PASSWORD);
            expect(session.user.roles).toContain('admin');
          } finally {
            await stop(server);
          }
          const client = new pg.Client({ connectionString: db.url });
          await client.connect();
          try {
            const { rows } = await client.query<{ login: string }>('SELECT login FROM users ORDER BY login');
            expect(rows.map((r) => r.login)).toEqual(['pgadmin']);
          } finally {
            await client.end();
          }
        },
        SLOW,
      );
    },
  );
});
