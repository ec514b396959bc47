import { z } from 'zod';
import { ROLES } from '../../users/index.js';
import { instant, listQuery } from '../common/admin-list.js';

/** Text Postgres accepts and people can read: no NUL or other control characters. */
const printable = /^[^\u0000-\u001f\u007f]*$/;

export const CreateUserBody = z.strictObject({
  login: z.string().min(1).max(128).regex(printable, { error: 'must be printable text' }),
  password: z.string().min(1).max(512).optional(),
  displayName: z.string().trim().min(1).max(100).regex(printable, { error: 'must be printable text' }),
  roles: z.array(z.enum(ROLES)).min(1).max(ROLES.length).optional(),
});
export type CreateUserBody = z.infer<typeof CreateUserBody>;

export const PatchUserBody = z
  .strictObject({
    displayName: z.string().trim().min(1).max(100).regex(printable, { error: 'must be printable text' }).optional(),
    avatarUrl: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .max(1_000)
      .nullable()
      .optional(),
    roles: z.array(z.enum(ROLES)).min(1).max(ROLES.length).optional(),
    status: z.enum(['active', 'disabled']).optional(),
    password: z.string().min(1).max(512).optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), {
    error: 'give at least one of displayName, avatarUrl, roles, status, password',
  });
export type PatchUserBody = z.infer<typeof PatchUserBody>;

export const UserListQuery = listQuery({
  q: z.string().trim().min(1).max(100).regex(printable, { error: 'must be printable text' }).optional(),
  status: z.enum(['active', 'disabled']).optional(),
  role: z.enum(ROLES).optional(),
  provider: z
    .string()
    .regex(/^[a-z][a-z0-9_-]{0,31}$/, { error: 'is not a provider id' })
    .optional(),
  createdFrom: instant.optional(),
  createdTo: instant.optional(),
  sort: z.enum(['createdAt', '-createdAt', 'login', '-login']).default('-createdAt'),
}).refine((q) => !q.createdFrom || !q.createdTo || q.createdFrom < q.createdTo, {
  error: 'createdFrom must be before createdTo',
  path: ['createdFrom'],
});
export type UserListQuery = z.infer<typeof UserListQuery>;

export const DeleteUserQuery = z.strictObject({
  hard: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
});
