import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (`.ci/run` installs it): never a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** Why browser suites cannot run here, or undefined when they can (for `describeWith`). */
export const CHROMIUM_NEED = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (apt-get install chromium)`;

/**
 * Headless Chromium with the flags of STACK.md. Playwright gives every launch a
 * fresh temporary profile of its own (a `--user-data-dir` is not allowed here).
 */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extraArgs],
  });
}

/** Where browser tests leave screenshots for reviewers (ignored by git). */
export const SCREENSHOTS = join(process.cwd(), 'test-output', 'screenshots');
