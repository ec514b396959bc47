import { z } from 'zod';

/** `POST /api/v1/qr-sessions`: only `returnTo`; a client-chosen `id` (or anything else) is refused. */
export const CreateQrBody = z.preprocess(
  (body) => body ?? {},
  z.strictObject({
    returnTo: z.string().min(1).max(2048).optional(),
  }),
);
export type CreateQrBody = z.infer<typeof CreateQrBody>;

export const StatusQuery = z.strictObject({
  waitSeconds: z.coerce.number().int().min(1).max(30).optional(),
  afterVersion: z.coerce.number().int().min(0).max(1_000_000).optional(),
});
export type StatusQuery = z.infer<typeof StatusQuery>;

export const ImageQuery = z.strictObject({
  size: z.coerce.number().int().min(64).max(1024).optional(),
});

/** Confirm: the chosen number only; the approver is whoever the access token says. */
export const ConfirmBody = z.preprocess(
  (body) => body ?? {},
  z.strictObject({
    matchCode: z
      .string()
      .regex(/^\d{2}$/, { error: 'must be the 2-digit number shown on the screen' })
      .optional(),
  }),
);
export type ConfirmBody = z.infer<typeof ConfirmBody>;

export const EmptyBody = z.preprocess((body) => body ?? {}, z.strictObject({}));

/** The public id in a path: 43 base64url characters (256 bits). Anything else is simply not found. */
export const QR_ID = /^[A-Za-z0-9_-]{43}$/;
