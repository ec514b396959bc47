/** A keyset position: the sort key's values and the id, as Postgres prints them (no precision lost). */
export type CursorKey = string[];
