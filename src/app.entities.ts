import { AuditEvent } from './audit/index.js';
import { SigningKey, RefreshToken, Session } from './auth/index.js';

import { Identity, User } from './users/index.js';

/**
 * Every entity the feature modules register, for the migration CLI, which
 * diffs them against the database without starting the features.
 * `test/integration/schema.int-spec.ts` checks this list against the app's.
 */
export const APP_ENTITIES = [User, Identity, Session, RefreshToken, SigningKey, AuditEvent];
