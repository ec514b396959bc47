import { runCli } from '../common/index.js';
import { PgliteImages } from './pglite.factory.js';

/**
 * Run by `npm run build`: makes the embedded database's initdb image (see
 * `PgliteFactory`) unless this installation has one, so that the first
 * zero-configuration start does not spend 4–5 s in initdb.
 */
async function main(): Promise<number> {
  const images = new PgliteImages();
  if (await images.ensure()) console.log(`Made the embedded database's initdb image: ${images.file}`);
  return 0;
}

runCli('pglite-image', main);
