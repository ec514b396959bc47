import { z } from 'zod';
import { ROLES } from '../../users/user.entity.js';

export const CreateUserBody = z.strictObject({
  login: z.string().min(1).max(128),
  password: z.string().min(1).max(512).optional(),
  displayName: z.string().trim().min(1).max(100),
  roles: z.array(z.enum(ROLES)).min(1).max(ROLES.length).optional(),
});
export type CreateUserBody = z.infer<typeof CreateUserBody>;

export const PatchUserBody = z
  .strictObject({
    status: z.enum(['active', 'disabled']).optional(),
    password: z.string().min(1).max(512).optional(),
  })
  .refine((b) => b.status !== undefined || b.password !== undefined, { error: 'give at least one of status, password' });
export type PatchUserBody = z.infer<typeof PatchUserBody>;
