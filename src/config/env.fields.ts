import { z } from 'zod';

/** The building blocks of the environment's schema (`env.schema.ts`, `oauth-providers.env.ts`). */

export const onOff = (fallback: 'on' | 'off') =>
  z
    .enum(['on', 'off', 'true', 'false', '1', '0'], { error: 'expected "on" or "off"' })
    .default(fallback)
    .transform((v) => v === 'on' || v === 'true' || v === '1');

export const int = (min: number, max: number, fallback: number, what = 'an integer') =>
  z
    .string()
    .default(String(fallback))
    .refine((v) => /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max, {
      error: `expected ${what} from ${min} to ${max}`,
    })
    .transform(Number);

export const url = (protocols: string[], what: string) =>
  z.string().refine(
    (v) => {
      try {
        const parsed = new URL(v);
        return protocols.includes(parsed.protocol) && parsed.hostname !== '';
      } catch {
        return false;
      }
    },
    { error: `expected ${what}` },
  );

export const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

/** An http(s) base URL with its default (a provider's host: configurable, so a sandbox or a proxy can stand in). */
export const httpBase = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .pipe(url(['http:', 'https:'], 'an http(s) URL'));
