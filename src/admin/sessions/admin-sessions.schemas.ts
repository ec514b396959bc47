import { z } from 'zod';
import { listQuery } from '../common/admin-list.js';
import { UUID_PATTERN } from '../common/admin-keyset.js';

/** `active=true` (the default): live sessions only; `active=false`: every session, revoked and expired ones too. */
const active = z
  .enum(['true', 'false'], { error: 'must be true or false' })
  .default('true')
  .transform((v) => v === 'true');

/** `GET /admin/users/{id}/sessions` */
export const UserSessionsQuery = listQuery({ active });
export type UserSessionsQuery = z.infer<typeof UserSessionsQuery>;

/** `GET /admin/sessions` */
export const SessionsQuery = listQuery({
  userId: z
    .string()
    .regex(UUID_PATTERN, { error: 'must be a user id (uuid)' })
    .transform((v) => v.toLowerCase())
    .optional(),
  kind: z.enum(['mobile', 'web'], { error: 'must be mobile or web' }).optional(),
  createdVia: z
    .string()
    .regex(/^(password|qr|oauth:[a-z][a-z0-9_-]{0,31})$/, { error: 'must be password, qr or oauth:<provider>' })
    .optional(),
  active,
});
export type SessionsQuery = z.infer<typeof SessionsQuery>;
