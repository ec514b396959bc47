import { Injectable } from '@nestjs/common';
import { AuditService, type AuditType } from '../../audit/index.js';
import type { Acting } from './acting.js';

/** Fields whose values never enter an audit event: only the fact that they changed. */
const SECRET_FIELDS = new Set(['password', 'passwordHash', 'secret', 'token']);

export type Changes = Record<string, { before: unknown; after: unknown }>;

/** `before`/`after` of the fields that differ; secret fields appear as changed, without values. */
export function changesOf(before: Record<string, unknown>, after: Record<string, unknown>): Changes {
  const changes: Changes = {};
  for (const field of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const [b, a] = [before[field], after[field]];
    if (JSON.stringify(b) === JSON.stringify(a)) continue;
    changes[field] = SECRET_FIELDS.has(field)
      ? { before: '[secret]', after: '[changed]' }
      : { before: b ?? null, after: a ?? null };
  }
  return changes;
}

/**
 * The audit trail of the admin API: each action is one event with the actor,
 * the target user, the request id, the client's address, and what changed.
 */
@Injectable()
export class AdminAudit {
  constructor(private readonly audit: AuditService) {}

  record(
    acting: Acting,
    type: AuditType,
    target: { userId?: string | null; sessionId?: string | null },
    detail: Record<string, unknown> = {},
  ): Promise<void> {
    return this.audit.record({
      type,
      actorId: acting.actor.userId,
      userId: target.userId ?? null,
      sessionId: target.sessionId ?? null,
      ip: acting.ip,
      userAgent: acting.userAgent,
      detail: { ...detail, requestId: acting.requestId, via: 'admin' },
    });
  }
}
