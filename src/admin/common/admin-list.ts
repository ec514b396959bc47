import { z } from 'zod';
import { ValidationError } from '../../common/index.js';

/**
 * The one list contract of the admin API (PROTOCOL.md § Operators): every
 * collection takes `?limit=` (1–200, default 50) and `?cursor=`, answers
 * `{ items, nextCursor }`, and refuses unknown query fields.
 *
 * Pages are keyset pages: the cursor carries the sort and the last row's sort
 * key, so rows inserted meanwhile never shift a page (no duplicates, no gaps).
 */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A strict query schema: `limit`, `cursor` and the collection's own filters. */
export function listQuery<S extends z.ZodRawShape>(filters: S) {
  return z.strictObject({
    limit: z.coerce.number({ error: 'must be a whole number from 1 to 200' }).int().min(1).max(200).default(50),
    cursor: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,1024}$/, { error: 'is not a cursor from this API' })
      .optional(),
    ...filters,
  });
}

/** The query of a route that takes none: any field is `validation.failed` (the list contract's rule, everywhere). */
export const NoQuery = z.strictObject({});

/** An ISO-8601 instant in a query (`createdFrom`, `from`, …). */
export const instant = z.iso
  .datetime({ offset: true, error: 'must be an ISO-8601 date-time, e.g. 2026-11-27T00:00:00Z' })
  .transform((v) => new Date(v));

/** The values a cursor holds: the sort it was made for, then the last row's key (texts, as Postgres printed them). */
import type { CursorKey } from '../../database/index.js';

export type { CursorKey };

export function encodeCursor(sort: string, key: CursorKey): string {
  return Buffer.from(JSON.stringify([sort, ...key])).toString('base64url');
}

/** The key of `cursor`, made for `sort` with `arity` values; anything else is `validation.failed` on `cursor`. */
export function decodeCursor(cursor: string | undefined, sort: string, arity: number): CursorKey | null {
  if (cursor === undefined) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== arity + 1 ||
    !parsed.every((v) => typeof v === 'string' && v.length <= 512)
  ) {
    throw new ValidationError([{ path: 'cursor', message: 'is not a cursor from this API' }]);
  }
  if (parsed[0] !== sort) throw new ValidationError([{ path: 'cursor', message: 'was made for another sort order' }]);
  return parsed.slice(1) as CursorKey;
}

/**
 * The page from `rows` fetched with `LIMIT limit + 1`: the first `limit`
 * rows as items, and a cursor after the last one when there were more.
 */
export function pageOf<Row, Item>(
  rows: Row[],
  limit: number,
  sort: string,
  keyOf: (row: Row) => CursorKey,
  view: (row: Row) => Item,
): Page<Item> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items: items.map(view), nextCursor: rows.length > limit && last ? encodeCursor(sort, keyOf(last)) : null };
}
