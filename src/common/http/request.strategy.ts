import type { Request } from 'express';
import { Strategy } from 'passport-strategy';

type Verify<T> = (req: Request, done: (error: unknown, outcome?: T) => void) => void;

/**
 * A Passport strategy whose whole work is one callback on the request (as
 * passport-custom does): the access-token strategy and the OAuth one are each
 * a thin adapter over a service that owns the decision.
 */
export class RequestStrategy<T = unknown> extends Strategy {
  constructor(private readonly verify: Verify<T>) {
    super();
  }

  override authenticate(req: Request): void {
    this.verify(req, (error, outcome) => (error ? this.error(error as Error) : this.success(outcome!)));
  }
}
