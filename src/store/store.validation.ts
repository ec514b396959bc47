/**
 * Argument checks shared by both stores, so that a bad duration is the same
 * programming error (`RangeError`, a 500) on both. Left to Redis, `PX 0` would
 * come back as an error reply, which the Redis store reports as
 * `store.unavailable`: the wrong diagnosis, and different from the memory store.
 */

/** A duration in whole milliseconds (rounded up: Redis takes integers only), or a `RangeError`. */
export function durationMs(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number of milliseconds`);
  }
  return Math.ceil(value);
}

/** Like `durationMs`, for an optional time to live. */
export function optionalDurationMs(value: number | undefined, name: string): number | undefined {
  return value === undefined ? undefined : durationMs(value, name);
}
