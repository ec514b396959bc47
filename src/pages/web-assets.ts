import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Injectable, Logger } from '@nestjs/common';

export interface WebAsset {
  body: Buffer;
  type: string;
  etag: string;
}

/** The built browser files (`npm run build` → dist/web), by the path they are served at. */
const SERVED: Record<string, { file: string; type: string }> = {
  'sdk/scangate.js': { file: 'sdk/scangate.js', type: 'text/javascript; charset=utf-8' },
  'assets/login.js': { file: 'assets/login.js', type: 'text/javascript; charset=utf-8' },
  'assets/phone.js': { file: 'assets/phone.js', type: 'text/javascript; charset=utf-8' },
  'assets/pages.css': { file: 'assets/pages.css', type: 'text/css; charset=utf-8' },
  'assets/favicon.svg': { file: 'assets/favicon.svg', type: 'image/svg+xml' },
};

/** The project root: the nearest folder above this module with a package.json (src/ or dist/src/ alike). */
function projectRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/**
 * The SDK and the pages' scripts and styles, read once at start-up and kept
 * in memory with a content hash as ETag. A missing build is reported once at
 * start-up (the API still runs; the pages cannot).
 */
@Injectable()
export class WebAssets {
  private readonly assets = new Map<string, WebAsset>();

  constructor() {
    const web = join(projectRoot(), 'dist', 'web');
    const missing: string[] = [];
    for (const [path, { file, type }] of Object.entries(SERVED)) {
      const location = join(web, file);
      if (!existsSync(location)) {
        missing.push(file);
        continue;
      }
      const body = readFileSync(location);
      this.assets.set(path, {
        body,
        type,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      });
    }
    if (missing.length > 0)
      new Logger('WebAssets').warn(
        `The pages' browser files are not built (${missing.join(', ')} missing under ${web}): run \`npm run build\`.`,
      );
  }

  get(path: string): WebAsset | undefined {
    return this.assets.get(path);
  }
}
