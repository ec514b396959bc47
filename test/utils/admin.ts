import type { Role } from '../../src/users/user.entity.js';
import { bearer, createUser, loginWeb } from './accounts.js';
import type { TestApp } from './create-test-app.js';

/** A signed-in web session (fresh sign-in: destructive admin actions allowed) of a new user with `roles`. */
export async function signedInAs(t: TestApp, roles: Role[]) {
  const { user, login } = await createUser(t, { roles });
  const session = await loginWeb(t, login);
  return { user, login, accessToken: session.accessToken, sessionId: session.sessionId, auth: bearer(session.accessToken) };
}

/** An admin, an auditor and a plain user, each signed in. */
export async function adminCast(t: TestApp) {
  const [admin, auditor, user] = await Promise.all([signedInAs(t, ['admin']), signedInAs(t, ['auditor']), signedInAs(t, ['user'])]);
  return { admin, auditor, user };
}
