/** The public face of `database/`: what other modules may import (anything else is internal). */
export { DatabaseModule } from './database.module.js';
export { entityFromRow, isUniqueViolation, returnedRows, selectedColumns } from './query-results.js';
export type { CursorKey } from './keyset.js';
