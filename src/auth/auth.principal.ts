import type { Role } from '../users/index.js';
import type { SessionKind } from './sessions/session.entity.js';

/** Who is calling, as the verified access token says (never the request body). */
export interface Principal {
  userId: string;
  sessionId: string;
  kind: SessionKind;
  /** The device id of a mobile session. */
  deviceId: string | null;
  roles: Role[];
  /** How the session was authenticated: `pwd`, `qr`, `oauth`, `mob`. */
  amr: string[];
}

/** The claims of a ScanGate access token. */
export interface AccessTokenClaims {
  iss: string;
  aud: string;
  sub: string;
  sid: string;
  did?: string;
  amr: string[];
  roles: Role[];
  /** `mobile` or `web`. */
  knd: SessionKind;
  iat: number;
  exp: number;
}
