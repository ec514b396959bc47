import { QueryFailedError } from 'typeorm';

/** Postgres `unique_violation`: an expected answer (a taken login, a lost race), handled by callers. */
export const UNIQUE_VIOLATION = '23505';

export function isUniqueViolation(error: unknown): boolean {
  return error instanceof QueryFailedError && (error.driverError as { code?: string } | undefined)?.code === UNIQUE_VIOLATION;
}

/** The rows of `query()` on `UPDATE|DELETE … RETURNING`, which the postgres driver gives as `[rows, count]`. */
export function returnedRows<T>(result: unknown): T[] {
  return (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as T[];
}
