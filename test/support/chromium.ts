import { existsSync } from 'node:fs';
import { join } from 'node:path';
import jsQRModule from 'jsqr';
import { chromium, type Browser } from 'playwright-core';
import { PNG } from 'pngjs';

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
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}

/** Where browser tests leave screenshots for reviewers (ignored by git). */
export const SCREENSHOTS = join(process.cwd(), 'test-output', 'screenshots');

/** jsqr is CommonJS with a default export: callable at run time, typed as a namespace under nodenext. */
const jsQR = jsQRModule as unknown as (
  data: Uint8ClampedArray,
  width: number,
  height: number,
) => { data: string } | null;

/** The text of the QR code visible in a screenshot (PNG), as a phone camera would read it; null when there is none. */
export function decodeQr(png: Buffer): string | null {
  const image = PNG.sync.read(png);
  return (
    jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length), image.width, image.height)
      ?.data ?? null
  );
}
