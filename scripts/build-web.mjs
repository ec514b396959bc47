// The browser side of ScanGate, bundled with esbuild (no install script needed):
//   packages/web-client/src  → packages/web-client/dist/scangate.js (the npm package's one ESM file)
//                            → dist/web/sdk/scangate.js            (served at /sdk/scangate.js)
//   src/pages/browser/*.page.ts → dist/web/assets/<name>.js        (the pages' scripts; they import
//                                                                   the SDK from /sdk/scangate.js)
//   src/pages/browser/pages.css, favicon.svg → dist/web/assets/
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const web = join(root, 'dist', 'web');
const browserDir = join(root, 'src', 'pages', 'browser');
const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome100', 'safari15', 'firefox100'],
  minify: true,
  legalComments: 'eof',
  logLevel: 'warning',
};

const sdk = join(root, 'packages', 'web-client', 'dist', 'scangate.js');
await build({ ...common, entryPoints: [join(root, 'packages', 'web-client', 'src', 'index.ts')], outfile: sdk });
mkdirSync(join(web, 'sdk'), { recursive: true });
copyFileSync(sdk, join(web, 'sdk', 'scangate.js'));

// The pages load the SDK like any integrator would: from /sdk/scangate.js, not a second copy.
const sdkFromServer = {
  name: 'sdk-from-server',
  setup(b) {
    b.onResolve({ filter: /^@scangate\/web-client$/ }, () => ({ path: '../sdk/scangate.js', external: true }));
  },
};
await build({
  ...common,
  entryPoints: readdirSync(browserDir)
    .filter((name) => name.endsWith('.page.ts'))
    .map((name) => ({ in: join(browserDir, name), out: name.replace(/\.page\.ts$/, '') })),
  outdir: join(web, 'assets'),
  plugins: [sdkFromServer],
});
for (const file of ['pages.css', 'favicon.svg']) copyFileSync(join(browserDir, file), join(web, 'assets', file));
