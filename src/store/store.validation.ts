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

/** Most members one `takeDue` call may return. */
const MAX_TAKE_LIMIT = 1_000;

/** A point in time in epoch milliseconds (any finite number), or a `RangeError`. */
export function instantMs(value: number, name: string): number {
  if (!Number.isFinite(value)) throw new RangeError(`${name} must be a finite number of epoch milliseconds`);
  return value;
}

/** A `takeDue` lease: a positive integer number of milliseconds, or a `RangeError`. */
export function leaseMs(value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError('leaseMs must be a positive integer number of milliseconds');
  return value;
}

/** A `takeDue` limit: an integer from 1 to `MAX_TAKE_LIMIT`, or a `RangeError`. */
export function takeLimit(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_TAKE_LIMIT) {
    throw new RangeError(`limit must be an integer from 1 to ${MAX_TAKE_LIMIT}`);
  }
  return value;
}
