import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertBuilt, freePort, startServer, stopStartedServers, waitForOk } from '../support/server-process.js';

/**
 * The server as a user runs it: `node dist/src/main.js` in a child process,
 * with nothing configured but a port and a data folder.
 */
describe('the server process', () => {
  let dir: string;

  beforeAll(async () => {
    assertBuilt();
    dir = await mkdtemp(join(tmpdir(), 'scangate-process-'));
  });

  afterAll(async () => {
    await stopStartedServers();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts with zero configuration, keeps its data, restarts, and stops cleanly on SIGTERM', async () => {
    const port = String(await freePort());
    const env = { PORT: port, HOST: '127.0.0.1', DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'info' };

    const first = startServer(env);
    const firstMs = await waitForOk(`http://127.0.0.1:${port}/health/ready`, 90_000, first.exited);
    expect(first.stdout()).toContain(`ScanGate`);
    expect(first.stdout()).toContain(`http://localhost:${port}`);
    expect(first.stdout()).toMatch(/embedded/);
    expect(first.stdout()).toContain(join(dir, 'data', 'postgres'));
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.stdout()).toMatch(/Shut down cleanly/);

    const second = startServer(env);
    const secondMs = await waitForOk(`http://127.0.0.1:${port}/health/ready`, 90_000, second.exited);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    // Figures for the record (first start includes PGlite's initdb).
    console.log(`ready after ${Math.round(firstMs)} ms (new data folder), ${Math.round(secondMs)} ms (existing)`);
    expect(first.stderr()).toBe('');
  });

  it.each([
    [{ PORT: 'not-a-port' }, /^scangate: Invalid configuration: PORT: expected a port number from 1 to 65535\n$/],
    [
      { DATABASE_URL: 'mysql://root:pw@db/x' },
      /^scangate: Invalid configuration: DATABASE_URL: expected a postgres:\/\/ connection URL\n$/,
    ],
    [
      { NODE_ENV: 'production' },
      /^scangate: Invalid configuration: PUBLIC_URL: required .*; DATABASE_URL: required .*; SIGNING_KEYS_SECRET: required .*\n$/,
    ],
    [
      {
        NODE_ENV: 'production',
        PUBLIC_URL: 'http://login.example.com',
        DATABASE_URL: 'postgres://u@127.0.0.1:1/x',
        SIGNING_KEYS_SECRET: Buffer.alloc(32, 1).toString('base64'),
      },
      /^scangate: Invalid configuration: PUBLIC_URL: must be an https:\/\/ origin when NODE_ENV=production\n$/,
    ],
  ])('refuses to start on a bad setting (%o) with one readable line and a non-zero exit', async (env, message) => {
    const server = startServer({ DATA_DIR: join(dir, 'unused'), ...env });
    expect(await server.exited).not.toBe(0);
    expect(server.stderr()).toMatch(message);
    expect(server.stdout()).toBe('');
  });

  it('says plainly when the embedded data folder is in use by another instance', async () => {
    const port = String(await freePort());
    const env = { PORT: port, HOST: '127.0.0.1', DATA_DIR: join(dir, 'shared'), LOG_LEVEL: 'warn' };
    const holder = startServer(env);
    await waitForOk(`http://127.0.0.1:${port}/health/ready`, 90_000, holder.exited);
    try {
      const second = startServer({ ...env, PORT: String(await freePort()) });
      expect(await second.exited).toBe(1);
      expect(second.stderr()).toMatch(
        /^scangate: could not start: The embedded database in .* is in use by process \d+/,
      );
    } finally {
      holder.child.kill('SIGTERM');
      await holder.exited;
    }
  });
});
