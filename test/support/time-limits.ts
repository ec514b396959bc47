/**
 * Time-bounded behaviours (a time-out fires, a call fails fast instead of
 * hanging) are asserted against their configured bound times this slack, so a
 * loaded machine never fails a test on time alone; how fast they really are is
 * `npm run bench`'s business. `TEST_TIME_SLACK` overrides it (default 5).
 */
export const TIME_SLACK = Number(process.env.TEST_TIME_SLACK ?? 5);

/** The longest a behaviour bounded by `ms` may take in a test before it counts as hung. */
export const notHung = (ms: number): number => ms * TIME_SLACK;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
