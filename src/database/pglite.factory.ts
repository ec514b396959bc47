import { Injectable } from '@nestjs/common';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Postgres extensions the embedded database loads (pg_trgm: the admin search's trigram indexes). */
const PGLITE_EXTENSIONS = { pg_trgm };

/**
 * Brings a PGlite instance into being: an existing cluster in `dataDir`, or a
 * new one there (in memory when `dataDir` is undefined).
 *
 * Making a new cluster (initdb inside WASM) takes 4–5 s, most of a first
 * start. The first cluster this installation makes is kept as an image of its
 * freshly initialised data folder, before anything is written to it (no
 * table, no password: the embedded password lives beside the folder, not in
 * the cluster), one per PGlite version and extension set; a later new cluster
 * starts from a copy of that image in about a second. `npm run build` makes the
 * image ahead (`pglite-image.cli.ts`), so even the first start of a fresh clone
 * is quick. The image is only a cache: without one (or where it cannot be
 * written, as in a read-only container) a cluster is made by initdb as before.
 */
@Injectable()
export class PgliteFactory {
  private readonly images = new PgliteImages();

  async create(dataDir: string | undefined): Promise<PGlite> {
    if (dataDir !== undefined && existsSync(join(dataDir, 'PG_VERSION')))
      return PGlite.create(dataDir, { extensions: PGLITE_EXTENSIONS });
    const image = await this.images.read();
    if (image) return PGlite.create(dataDir, { extensions: PGLITE_EXTENSIONS, loadDataDir: image });
    const db = await PGlite.create(dataDir, { extensions: PGLITE_EXTENSIONS });
    await this.images.write(await db.dumpDataDir('none')).catch(() => undefined);
    return db;
  }
}

/**
 * Where the initdb images live: `node_modules/.cache/scangate/` of the
 * installation this code runs from (found from this file, not the working
 * directory: the CLIs and tests run from elsewhere).
 */
export class PgliteImages {
  readonly file: string;

  constructor(root: string = installationRoot()) {
    const { version } = JSON.parse(
      readFileSync(join(root, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8'),
    ) as { version: string };
    const extensions = Object.keys(PGLITE_EXTENSIONS).sort().join('+');
    this.file = join(root, 'node_modules', '.cache', 'scangate', `pglite-${version}-${extensions}.tar`);
  }

  async read(): Promise<Blob | undefined> {
    try {
      return new Blob([await readFile(this.file)]);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Written under a private name, then renamed: a parallel reader sees the whole image or none. */
  async write(image: Blob): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const partial = `${this.file}.${process.pid}.${Date.now()}`;
    try {
      await writeFile(partial, Buffer.from(await image.arrayBuffer()));
      await rename(partial, this.file);
    } finally {
      await rm(partial, { force: true });
    }
  }

  /** Makes the image unless there is one; whether it was made. */
  async ensure(): Promise<boolean> {
    if (existsSync(this.file)) return false;
    const db = await PGlite.create(undefined, { extensions: PGLITE_EXTENSIONS });
    try {
      await this.write(await db.dumpDataDir('none'));
    } finally {
      await db.close();
    }
    return true;
  }
}

/** The nearest folder above this file that has `node_modules` with PGlite in it. */
function installationRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'node_modules', '@electric-sql', 'pglite', 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('Cannot find the installation folder of @electric-sql/pglite');
    dir = parent;
  }
}
