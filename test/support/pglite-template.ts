import { PGlite } from '@electric-sql/pglite';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PGLITE_EXTENSIONS, PgliteFactory } from '../../src/database/embedded-postgres.js';

/**
 * A new in-memory PGlite cluster in about a second instead of four: the first
 * one a machine makes (initdb inside WASM) is kept as a data-folder image under
 * node_modules/.cache, one per PGlite version, and later clusters start from a
 * copy of it. The image is taken before any migration, so every app still runs
 * the real migrations at start-up. Clusters on disk are made as in production.
 */
export class TemplatePgliteFactory extends PgliteFactory {
  override async create(dataDir: string | undefined): Promise<PGlite> {
    if (dataDir !== undefined) return super.create(dataDir);
    const image = await readImage();
    if (image) return PGlite.create(undefined, { extensions: PGLITE_EXTENSIONS, loadDataDir: image });
    const db = await super.create(undefined);
    await writeImage(await db.dumpDataDir('none'));
    return db;
  }
}

const CACHE_DIR = join(process.cwd(), 'node_modules', '.cache', 'scangate-tests');

async function imageFile(): Promise<string> {
  const { version } = JSON.parse(
    await readFile(join(process.cwd(), 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8'),
  ) as { version: string };
  const extensions = Object.keys(PGLITE_EXTENSIONS).sort().join('+');
  return join(CACHE_DIR, `pglite-${version}-${extensions}.tar`);
}

async function readImage(): Promise<Blob | undefined> {
  try {
    return new Blob([await readFile(await imageFile())]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Written under a private name, then renamed: a parallel reader sees the whole image or none. */
async function writeImage(image: Blob): Promise<void> {
  const file = await imageFile();
  await mkdir(CACHE_DIR, { recursive: true });
  const partial = `${file}.${process.pid}.${Date.now()}`;
  await writeFile(partial, Buffer.from(await image.arrayBuffer()));
  await rename(partial, file);
}
