/** The public face of `users/`: what other modules may import (anything else is internal). */
export { Identity } from './identity.entity.js';
export { normalizeLogin } from './login.js';
export { PASSWORD_MAX_LENGTH } from './password.policy.js';
export { ROLES, type Role, User } from './user.entity.js';
export { UsersError } from './users.errors.js';
export { UsersModule } from './users.module.js';
export { type NewIdentity, UsersService } from './users.service.js';
export { UserDirectory, type UserRow } from './user.directory.js';
