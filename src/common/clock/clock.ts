import { Injectable } from '@nestjs/common';

/** Time as a side effect: injected everywhere "now" matters, so tests can move it. */
export abstract class Clock {
  /** Milliseconds since the epoch. */
  abstract now(): number;

  date(): Date {
    return new Date(this.now());
  }
}

@Injectable()
export class SystemClock extends Clock {
  now(): number {
    return Date.now();
  }
}
