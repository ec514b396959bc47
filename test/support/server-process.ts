import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

/** The built server (`npm run build`), run as a user runs it. */
export const MAIN = resolve('dist/src/main.js');

export function assertBuilt(): void {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first (npm test does)`);
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

/** Every server started and not yet exited: `stopStartedServers` ends them (a failed test must not leave one running). */
const running = new Set<ChildProcess>();

/** SIGKILLs every server this test file started that is still running, and waits for them. */
export async function stopStartedServers(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((done) => {
          child.once('exit', () => done());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** Starts `node [nodeArgs] dist/src/main.js` with exactly `env` (plus PATH), in `cwd`. */
export function startServer(env: Record<string, string>, cwd = process.cwd(), nodeArgs: string[] = []): ServerProcess {
  const child = spawn(process.execPath, [...nodeArgs, MAIN], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  running.add(child);
  const exited = new Promise<number | null>((done) =>
    child.once('exit', (code) => {
      running.delete(child);
      done(code);
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Polls `url` until it answers 200; returns the milliseconds it took. */
export async function waitForOk(url: string, timeoutMs: number, exited?: Promise<unknown>): Promise<number> {
  const started = performance.now();
  let dead = false;
  void exited?.then(() => (dead = true));
  while (performance.now() - started < timeoutMs) {
    if (dead) throw new Error('the server exited before it was ready');
    try {
      const res = await fetch(url);
      if (res.status === 200) return performance.now() - started;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}
