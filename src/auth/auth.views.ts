import type { User, Identity } from '../users/index.js';

import type { Session } from './sessions/session.entity.js';

/** A user as the API shows it (PROTOCOL.md § Operators). */
export function userView(user: User) {
  return {
    id: user.id,
    login: user.login,
    displayName: user.displayName,
    avatarUrl: user.avatarUrl,
    status: user.status,
    roles: user.roles,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}

/** A session as the API shows it; `current` marks the caller's own. */
export function sessionView(session: Session, currentSessionId?: string) {
  return {
    id: session.id,
    userId: session.userId,
    kind: session.kind,
    createdVia: session.createdVia,
    device: session.deviceId
      ? { id: session.deviceId, name: session.deviceName, platform: session.devicePlatform }
      : null,
    ip: session.ip,
    userAgent: session.userAgent,
    location: null as string | null,
    createdAt: session.createdAt.toISOString(),
    lastSeenAt: session.lastSeenAt.toISOString(),
    revokedAt: session.revokedAt?.toISOString() ?? null,
    ...(currentSessionId ? { current: session.id === currentSessionId } : {}),
  };
}

export function identityView(identity: Identity) {
  return {
    id: identity.id,
    provider: identity.provider,
    subject: identity.subject,
    subjectKind: identity.subjectKind,
    profile: identity.profile,
    linkedAt: identity.linkedAt.toISOString(),
  };
}
