import { Clock } from '../../src/common/clock/clock.js';

/** A clock that only moves when told to. */
export class FakeClock extends Clock {
  constructor(private current = Date.parse('2026-01-01T00:00:00Z')) {
    super();
  }

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }
}
