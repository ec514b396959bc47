import { QueryFailedError, type EntityMetadata, type ObjectLiteral } from 'typeorm';

/** Postgres `unique_violation`: an expected answer (a taken login, a lost race), handled by callers. */
export const UNIQUE_VIOLATION = '23505';

export function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof QueryFailedError && (error.driverError as { code?: string } | undefined)?.code === UNIQUE_VIOLATION
  );
}

/** The rows of `query()` on `UPDATE|DELETE … RETURNING`, which the postgres driver gives as `[rows, count]`. */
export function returnedRows<T>(result: unknown): T[] {
  return (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as T[];
}

/**
 * An entity from a raw row of its table (`RETURNING *`, `SELECT …`): column
 * names mapped to properties by the entity's metadata; values as the driver
 * gives them (timestamptz → Date, jsonb → object). Columns marked
 * `select: false` (secrets such as a password hash) are never copied.
 */
export function entityFromRow<T extends ObjectLiteral>(metadata: EntityMetadata, row: Record<string, unknown>): T {
  const entity = {} as Record<string, unknown>;
  for (const column of metadata.columns) {
    if (column.isSelect && column.databaseName in row) entity[column.propertyName] = row[column.databaseName];
  }
  return entity as T;
}

/** The SQL column list of an entity's default selection (no `select: false` column). */
export function selectedColumns(metadata: EntityMetadata): string {
  return metadata.columns
    .filter((column) => column.isSelect)
    .map((column) => `"${column.databaseName}"`)
    .join(', ');
}
