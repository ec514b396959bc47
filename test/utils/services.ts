import { describe, test } from '@jest/globals';
import { IN_CI } from './test-config.js';

/**
 * `describe` for a suite that needs something the machine may lack (a real
 * Redis or Postgres, a redis-server binary, Chromium). Without it the suite is
 * skipped with the reason printed; with CI=true a skip is a failure instead,
 * so CI cannot go green without proving the real path.
 */
export function describeWith(need: string | undefined, name: string, body: () => void): void {
  if (need === undefined) {
    describe(name, body);
    return;
  }
  if (IN_CI) {
    describe(name, () => {
      test(`requires ${need}`, () => {
        throw new Error(`CI=true but ${need}: this suite cannot be skipped in CI`);
      });
    });
    return;
  }
  // Straight to stderr: one line, without Jest's console decoration.
  process.stderr.write(`[skipped] ${name}: ${need}\n`);
  describe.skip(name, body);
}

