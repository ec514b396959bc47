/** The public face of `auth/`: what other modules may import (anything else is internal). */
export { type AccountEvent, AccountEvents, type NewIdentityLink, type NewLogin } from './account-events.js';
export { Client, CurrentUser, Public, Roles } from './auth.decorators.js';
export { AuthError } from './auth.errors.js';
export { AuthModule } from './auth.module.js';
export type { Principal } from './auth.principal.js';
export { AuthService, type SignedIn } from './auth.service.js';
export { identityView, sessionView, userView } from './auth.views.js';
export { SigningKey } from './keys/signing-key.entity.js';
export { RefreshCookie } from './refresh-cookie.js';
export { WebSignIn } from './web-sign-in.js';
export { isDeviceSignature } from './sessions/device-signature.js';
export { RefreshToken } from './sessions/refresh-token.entity.js';
export { Session } from './sessions/session.entity.js';
export { SessionsService } from './sessions/sessions.service.js';
export { type ClientContext, clientContextOf } from './client-context.js';
export { AccessTokenService } from './tokens/access-token.service.js';
export { SessionDirectory, type SessionSearch } from './sessions/session.directory.js';
