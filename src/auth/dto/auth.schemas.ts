import { createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { PASSWORD_MAX_LENGTH } from '../../users/index.js';

const base64url = (length: number) =>
  z.string().regex(new RegExp(`^[A-Za-z0-9_-]{${length}}$`), { error: 'must be base64url' });

/**
 * A phone's device key: an EC P-256 *public* JWK (WebCrypto's export with
 * `ext`/`key_ops` is accepted; those members are dropped). A private key (`d`)
 * or a point off the curve is refused.
 */
export const DevicePublicKey = z
  .object({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    x: base64url(43),
    y: base64url(43),
    d: z.never({ error: 'must be a public key (no "d")' }).optional(),
  })
  .refine(
    (jwk) => {
      try {
        createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, format: 'jwk' });
        return true;
      } catch {
        return false;
      }
    },
    { error: 'is not a valid P-256 public key' },
  )
  .transform(({ kty, crv, x, y }) => ({ kty, crv, x, y }));

const printable = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .regex(/^[^\u0000-\u001f\u007f]+$/, { error: 'must be printable text' });

const Device = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._:-]{8,128}$/, { error: 'must be 8 to 128 letters, digits or . _ : -' }),
  name: printable(100),
  platform: printable(40),
  publicKey: DevicePublicKey.optional(),
});

export const LoginBody = z.strictObject({
  login: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[^\u0000-\u001f\u007f]+$/, { error: 'must be printable text' }),
  password: z.string().min(1).max(PASSWORD_MAX_LENGTH),
  device: Device.optional(),
});
export type LoginBody = z.infer<typeof LoginBody>;

/** `{ refreshToken }` (mobile), or an empty body — even none at all — with the cookie (web). */
export const RefreshBody = z.preprocess(
  (body) => body ?? {},
  z.strictObject({
    refreshToken: z
      .string()
      .regex(/^[A-Za-z0-9_-]{20,200}$/, { error: 'is not a refresh token' })
      .optional(),
  }),
);

export const ReauthBody = z.strictObject({ password: z.string().min(1).max(PASSWORD_MAX_LENGTH) });

export const ChangePasswordBody = z.strictObject({
  currentPassword: z.string().min(1).max(PASSWORD_MAX_LENGTH),
  newPassword: z
    .string()
    .min(1)
    .max(PASSWORD_MAX_LENGTH * 2),
});
