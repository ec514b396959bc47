import { run } from './admin-cli.js';

/**
 * `npm run admin -- <command> …`: the admin API from a terminal (see
 * `admin-cli.ts`, or `npm run admin -- --help`). Only the process's own
 * world is wired here: arguments, environment, streams, Ctrl-C.
 */
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.once('SIGTERM', () => stop.abort());

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

run(process.argv.slice(2), {
  fetch,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  readStdin,
  signal: stop.signal,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`admin: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
