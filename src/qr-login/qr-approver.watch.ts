import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { AccountEvents, type AccountEvent } from '../auth/index.js';
import { QrApproverRevocation } from './qr-approver-revocation.js';

const RESUBSCRIBE_MS = 1_000;

/**
 * A phone session revoked (signed out, replaced, refresh reuse, password
 * change, disabled user, administrator) takes its pending approvals with it:
 * the QR logins it scanned or confirmed and that were not exchanged yet are
 * cancelled, so their browsers see `cancelled` at once. The event is a
 * courtesy (a store outage may lose it); `exchange` checks the revocation
 * store itself, so a lost event never lets such a login through.
 */
@Injectable()
export class QrApproverWatch implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('QrApproverWatch');
  private unsubscribe?: () => Promise<void>;
  private retry?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly events: AccountEvents,
    private readonly revocation: QrApproverRevocation,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.subscribe();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.unsubscribe?.().catch(() => undefined);
  }

  private async subscribe(): Promise<void> {
    try {
      this.unsubscribe = await this.events.subscribe((event) => void this.onEvent(event));
    } catch {
      if (this.stopped) return;
      this.logger.warn('Could not subscribe to account events (store unavailable); retrying in the background');
      this.retry = setTimeout(() => void this.subscribe(), RESUBSCRIBE_MS);
      this.retry.unref();
    }
  }

  private async onEvent(event: AccountEvent): Promise<void> {
    if (event.type !== 'session.revoked') return;
    for (const sessionId of event.sessionIds) {
      try {
        await this.revocation.cancelApprovedBy(sessionId);
      } catch (error) {
        this.logger.warn(`Could not cancel the QR logins of a revoked phone session: ${(error as Error).message}`);
      }
    }
  }
}
