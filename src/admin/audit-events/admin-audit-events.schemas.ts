import { z } from 'zod';
import { instant, listQuery } from '../common/admin-list.js';

/**
 * An audit type such as `auth.login_failed` or `qr.consumed`: checked by shape
 * rather than against today's list, so a type added tomorrow (and the events
 * it already wrote) can be searched without touching this file.
 */
const AUDIT_TYPE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;

export const AuditEventsQuery = listQuery({
  userId: z
    .guid({ error: 'must be a user id (uuid)' })
    .transform((v) => v.toLowerCase())
    .meta({ description: 'The user acted upon, or the actor', example: '0b6f3c1e-2d4a-4f6b-8e9c-1a2b3c4d5e6f' })
    .optional(),
  type: z
    .string()
    .max(64)
    .regex(AUDIT_TYPE_PATTERN, { error: 'must be an audit type, e.g. auth.login_failed' })
    .meta({ description: 'Exact event type', example: 'auth.login_failed' })
    .optional(),
  ip: z
    .union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' })
    .meta({ description: 'Exact client address', example: '203.0.113.7' })
    .optional(),
  from: instant.meta({ description: 'ISO-8601 instant, inclusive', example: '2026-11-26T00:00:00Z' }).optional(),
  to: instant.meta({ description: 'ISO-8601 instant, exclusive', example: '2026-11-27T00:00:00Z' }).optional(),
}).refine((q) => !q.from || !q.to || q.from < q.to, { path: ['from'], error: 'must be before to' });
export type AuditEventsQuery = z.output<typeof AuditEventsQuery>;

/** An audit event on the wire (PROTOCOL.md § Operators). */
export interface AuditEventView {
  id: string;
  type: string;
  at: string;
  actorId: string | null;
  userId: string | null;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
  detail: Record<string, unknown>;
}
