import { Injectable } from '@nestjs/common';
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/** Randomness and hashing as an injectable side effect (tests can replace it). */
@Injectable()
export class CryptoService {
  /** `bytes` random bytes from the CSPRNG, base64url (256 bits by default). */
  randomToken(bytes = 32): string {
    return randomBytes(bytes).toString('base64url');
  }

  /** A uniform random integer in [0, max). */
  randomInt(max: number): number {
    return randomInt(max);
  }

  /** SHA-256 of a secret token, for storing it without storing it. */
  sha256(value: string): Buffer {
    return createHash('sha256').update(value, 'utf8').digest();
  }

  /** Constant-time comparison of two secrets' hashes. */
  equal(a: Buffer, b: Buffer): boolean {
    return a.length === b.length && timingSafeEqual(a, b);
  }
}
