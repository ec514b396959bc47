import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '../common/index.js';
import { QrSessionStore } from './qr-sessions.store.js';

/** How often each instance looks for due sessions: expiry is announced within this. */
const SWEEP_INTERVAL_MS = 500;
const BATCH = 100;

/**
 * Expiry as an event: a store TTL alone tells nobody, so every instance runs
 * this sweeper; `takeDue` hands each due session to exactly one of them, whose
 * compare-and-set moves it to `expired` and publishes the change.
 */
@Injectable()
export class QrExpirySweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('QrExpirySweeper');
  private timer?: NodeJS.Timeout;
  private running = false;
  private failing = false;

  constructor(
    private readonly sessions: QrSessionStore,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One pass (also called by tests). Never overlaps itself; store outages are logged once. */
  async sweep(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      let total = 0;
      let taken: number;
      do {
        taken = await this.expireDue(BATCH);
        total += taken;
      } while (taken === BATCH);
      if (this.failing) this.logger.log('QR expiry sweeping works again');
      this.failing = false;
      return total;
    } catch (error) {
      if (!this.failing) this.logger.warn(`QR expiry sweep failed: ${(error as Error).message}`);
      this.failing = true;
      return 0;
    } finally {
      this.running = false;
    }
  }

  /**
   * Moves up to `limit` due sessions to `expired`; returns how many ids it took, expired or already finished.
   */
  private async expireDue(limit: number): Promise<number> {
    const due = await this.sessions.takeDue(limit);
    for (const [i, id] of due.entries()) {
      try {
        await this.sessions.sweepOne(id);
      } catch (error) {
        // Not expired yet: put this one and the rest back, due now, for the next pass.
        await Promise.all(due.slice(i).map((rest) => this.sessions.scheduleAt(rest, this.clock.now()))).catch(
          () => undefined,
        );
        throw error;
      }
    }
    return due.length;
  }
}
