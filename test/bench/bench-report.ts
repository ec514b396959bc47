import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Helpers the benches share: statistics, number formatting, printing, a forced GC. */

export function quantile(xs: number[], q: number): number {
  const sorted = [...xs].sort((x, y) => x - y);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
export const median = (xs: number[]) => quantile(xs, 0.5);
export const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const print = (line: string) => process.stdout.write(`${line}\n`);
export const verdict = (met: boolean) => (met ? 'target met' : 'TARGET MISSED');
export const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** A forced full GC: `global.gc` under --expose-gc, else the flag set at run time (new contexts then get `gc`). */
export function gcFunction(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}
