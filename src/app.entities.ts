import { AuditEvent } from './audit/audit-event.entity.js';
import { SigningKey } from './auth/keys/signing-key.entity.js';
import { RefreshToken } from './auth/sessions/refresh-token.entity.js';
import { Session } from './auth/sessions/session.entity.js';
import { Identity } from './users/identity.entity.js';
import { User } from './users/user.entity.js';

/**
 * Every entity the feature modules register, for the migration CLI, which
 * diffs them against the database without starting the features.
 * `test/integration/schema.int-spec.ts` checks this list against the app's.
 */
export const APP_ENTITIES = [User, Identity, Session, RefreshToken, SigningKey, AuditEvent];
