import { Injectable, type OnModuleInit } from '@nestjs/common';
import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';

/** OWASP's argon2id minimum: 19 MiB, 2 passes, 1 lane. */
// `Algorithm` is a const enum (unusable under isolatedModules): 2 is Argon2id.
const OPTIONS = { algorithm: 2 as Algorithm, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * argon2id through @node-rs/argon2 (prebuilt binaries, no install script).
 * `verifyOrDummy` checks against a real hash of a random password when there
 * is no user, so an unknown login costs the same time as a wrong password.
 */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  private dummyHash?: string;

  async onModuleInit(): Promise<void> {
    this.dummyHash = await hash(randomBytes(32).toString('base64'), OPTIONS);
  }

  hash(password: string): Promise<string> {
    return hash(password, OPTIONS);
  }

  /** Whether `password` matches `storedHash`; with no hash, burns the same time and says no. */
  async verifyOrDummy(storedHash: string | null | undefined, password: string): Promise<boolean> {
    const target =
      storedHash ?? this.dummyHash ?? (this.dummyHash = await hash(randomBytes(32).toString('base64'), OPTIONS));
    try {
      const ok = await verify(target, password);
      return ok && storedHash != null;
    } catch {
      return false;
    }
  }
}
