import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { Clock } from '../common/clock/clock.js';
import { AuditEvent } from './audit-event.entity.js';

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
  | 'qr.created'
  | 'qr.scanned'
  | 'qr.confirmed'
  | 'qr.cancelled'
  | 'qr.consumed'
  | 'qr.expired';

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

/** Writes audit events. Never given a password, token, code or secret. */
@Injectable()
export class AuditService {
  private readonly logger = new Logger('Audit');

  constructor(
    @InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>,
    private readonly clock: Clock,
  ) {}

  async record(input: AuditInput): Promise<void> {
    await this.events.save(
      this.events.create({
      type: input.type,
      at: this.clock.date(),
      actorId: input.actorId ?? null,
      userId: input.userId ?? null,
      sessionId: input.sessionId ?? null,
      ip: input.ip ?? null,
      userAgent: input.userAgent?.slice(0, 512) ?? null,
      detail: input.detail ?? {},
      }),
    );
    this.logger.log({ audit: input.type, userId: input.userId, sessionId: input.sessionId, ip: input.ip }, 'audit');
  }
}
