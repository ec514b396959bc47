// `npm start`: build when the sources are newer than the build, then run the
// server in this same process. Keeps a restart on an unchanged tree fast
// (no 3 s type-checking build) while a fresh clone or an edit still builds.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const entry = join(root, 'dist', 'src', 'main.js');

function newestMtime(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

const built = statSync(entry, { throwIfNoEntry: false })?.mtimeMs ?? 0;
const sources = Math.max(
  ...[
    'src',
    'migrations',
    'packages/web-client/src',
    'scripts/build-web.mjs',
    'tsconfig.json',
    'tsconfig.build.json',
    'package-lock.json',
  ].map((p) => newestMtime(join(root, p))),
);
if (sources > built) {
  process.stdout.write('Building…\n');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  // The same steps as `npm run build`: the server, the SDK's type declarations, the browser bundles,
  // the embedded database's initdb image.
  for (const args of [
    [tsc, '-p', join(root, 'tsconfig.build.json')],
    [tsc, '-p', join(root, 'packages', 'web-client', 'tsconfig.json')],
    [join(root, 'scripts', 'build-web.mjs')],
    [join(root, 'dist', 'src', 'database', 'pglite-image.cli.js')],
  ]) {
    const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
    if (result.status !== 0) process.exit(result.status ?? 1);
  }
}
await import(entry);
