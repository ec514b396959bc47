import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';

/** 32 random bytes as base64, on one line. */
const SECRET = /^[A-Za-z0-9+/]{43}=\n?$/;

/**
 * Secrets the zero-configuration mode makes for itself (the signing keys'
 * sealing secret, the embedded database's password): 32 random bytes, made
 * once and kept in the data folder, readable by its owner only (0600, the
 * folder 0700), so other local users cannot read them. `memory://` data keeps
 * them in memory: one per process and name.
 */
@Injectable()
export class LocalSecrets {
  private static readonly inMemory = new Map<string, Buffer>();

  /** The secret `name` of the data folder `dir` (`memory://`: of this process), made on first use. */
  async get(dir: string, name: string): Promise<Buffer> {
    if (dir === 'memory://') {
      let secret = LocalSecrets.inMemory.get(name);
      if (!secret) LocalSecrets.inMemory.set(name, (secret = randomBytes(32)));
      return secret;
    }
    return localSecretFile(join(dir, name));
  }
}

/** Reads the secret in `file`, or makes it (two processes racing: one writes, both read the same). */
async function localSecretFile(file: string): Promise<Buffer> {
  await mkdir(join(file, '..'), { recursive: true, mode: 0o700 });
  try {
    const handle = await open(file, 'wx', 0o600);
    try {
      await handle.writeFile(`${randomBytes(32).toString('base64')}\n`);
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // Owner only, whatever a copy or an editor left.
  if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
  for (let attempt = 0; ; attempt++) {
    const text = await readFile(file, 'utf8');
    if (SECRET.test(text)) return Buffer.from(text.trim(), 'base64');
    // A racing process may still be writing it.
    if (attempt >= 20)
      throw new Error(`${file} does not hold a secret (32 random bytes in base64): delete it to have a new one made`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
