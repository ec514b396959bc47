import { z } from 'zod';
import type { QrStatus } from '../../qr-login/index.js';
import { listQuery } from '../common/admin-list.js';

export const QR_STATUSES = [
  'pending',
  'scanned',
  'confirmed',
  'consumed',
  'cancelled',
  'expired',
] as const satisfies readonly QrStatus[];

/** `GET /admin/qr-sessions` */
export const QrSessionsQuery = listQuery({
  status: z.enum(QR_STATUSES, { error: `must be one of ${QR_STATUSES.join(', ')}` }).optional(),
});
export type QrSessionsQuery = z.infer<typeof QrSessionsQuery>;

/** `GET /admin/qr-sessions/counts`: no parameter at all (unknown ones are refused). */
export const QrCountsQuery = z.strictObject({});
