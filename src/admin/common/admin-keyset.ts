import { ValidationError } from '../../common/index.js';
import type { CursorKey } from './admin-list.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A `timestamptz` as Postgres prints it (DateStyle ISO): `2026-11-26 08:00:00.123456+00`, offsets as `+05:30` too. */
const PG_TIMESTAMPTZ = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?[+-](0\d|1[0-5])(:[0-5]\d){0,2}$/;

/** Whether `text` is a real instant Postgres printed (no 30 February: a cast of it would fail in SQL, not here). */
function isPgTimestamp(text: string): boolean {
  const m = PG_TIMESTAMPTZ.exec(text);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return (
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === mo - 1 &&
    date.getUTCDate() === d &&
    h < 24 &&
    mi < 60 &&
    s < 60
  );
}

/**
 * The `(timestamp, id)` keyset key of a decoded cursor, checked: the cursor is
 * only base64url JSON, so a hand-made one could carry any text, and the SQL
 * casts must never be what refuses it (that would be a 500).
 */
export function timestampIdKey(key: CursorKey | null): CursorKey | null {
  if (key === null) return null;
  const [at, id] = key;
  if (at === undefined || id === undefined || !isPgTimestamp(at) || !UUID.test(id)) {
    throw new ValidationError([{ path: 'cursor', message: 'is not a cursor from this API' }]);
  }
  return key;
}

/** The `(text, id)` keyset key of a decoded cursor (a login), checked likewise. */
export function textIdKey(key: CursorKey | null): CursorKey | null {
  if (key === null) return null;
  const [text, id] = key;
  if (text === undefined || id === undefined || !UUID.test(id) || /[\u0000-\u001f\u007f]/.test(text))
    throw new ValidationError([{ path: 'cursor', message: 'is not a cursor from this API' }]);
  return key;
}

/** A uuid filter in a query (`userId=`); anything else is `validation.failed`. */
export const UUID_PATTERN = UUID;
