import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { Clock } from '../common/index.js';
import { AuditEventsRepository, type AuditRowInput } from './audit-events.repository.js';

export type AuditType =
  | 'auth.login_succeeded'
  | 'auth.login_failed'
  | 'auth.refresh_reused'
  | 'auth.logout'
  | 'auth.reauthenticated'
  | 'auth.password_changed'
  | 'session.revoked'
  | 'user.created'
  | 'user.updated'
  | 'user.deleted'
  | 'provider.checked'
  | 'qr.created'
  | 'qr.scanned'
  | 'qr.confirmed'
  | 'qr.cancelled'
  | 'qr.consumed'
  | 'qr.expired'
  | 'identity.linked'
  | 'identity.unlinked';

export interface AuditInput {
  type: AuditType;
  actorId?: string | null;
  userId?: string | null;
  sessionId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  /** Small, non-secret facts (a reason, a method, changed field names). */
  detail?: Record<string, unknown>;
}

/** Rows per INSERT at most (8 parameters each, well under Postgres's 65,535). */
const MAX_BATCH = 500;

interface Pending {
  row: AuditRowInput;
  written: () => void;
  failed: (error: unknown) => void;
}

/**
 * Writes audit events. Never given a password, token, code or secret.
 *
 * Group writing: an event recorded while no write is in flight is written at
 * once; events recorded meanwhile wait for it and then go together in one
 * INSERT. Under load, one statement (and one commit) carries many events
 * instead of each taking a pool connection for its own; when idle, nothing
 * waits. `record` resolves once its row is in the database, as before; a
 * batch that fails is retried row by row, so one bad row fails only its own
 * caller. Shutdown waits for the rows still queued.
 */
@Injectable()
export class AuditService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Audit');
  private queue: Pending[] = [];
  private writing: Promise<void> | null = null;

  constructor(
    private readonly events: AuditEventsRepository,
    private readonly clock: Clock,
  ) {}

  record(input: AuditInput): Promise<void> {
    const row: AuditRowInput = {
      type: input.type,
      at: this.clock.date(),
      actorId: input.actorId ?? null,
      userId: input.userId ?? null,
      sessionId: input.sessionId ?? null,
      ip: input.ip ?? null,
      userAgent: input.userAgent?.slice(0, 512) ?? null,
      detail: input.detail ?? {},
    };
    const done = new Promise<void>((written, failed) => this.queue.push({ row, written, failed }));
    this.writing ??= this.drain();
    return done.then(() =>
      this.logger.log({ audit: input.type, userId: input.userId, sessionId: input.sessionId, ip: input.ip }, 'audit'),
    );
  }

  /**
   * Records an event of something that already happened (a session started, a
   * sign-out done): waits for the write, but never fails the caller, whose
   * change is committed and must not be reported as failed (a client would
   * retry and do it twice). A failed write is logged.
   */
  async recordDone(input: AuditInput): Promise<void> {
    try {
      await this.record(input);
    } catch (error) {
      this.logger.warn(
        { audit: input.type, userId: input.userId, sessionId: input.sessionId },
        `Audit event ${input.type} not written: ${(error as Error).message}`,
      );
    }
  }

  /** How many events wait for their write (for tests and metrics). */
  get queued(): number {
    return this.queue.length;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.writing;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        await this.events.insertMany(batch.map((p) => p.row));
        for (const p of batch) p.written();
      } catch (error) {
        if (batch.length === 1) batch[0]!.failed(error);
        else await this.writeOneByOne(batch);
      }
    }
    this.writing = null;
  }

  private async writeOneByOne(batch: Pending[]): Promise<void> {
    for (const p of batch) {
      try {
        await this.events.insertMany([p.row]);
        p.written();
      } catch (error) {
        p.failed(error);
      }
    }
  }
}
