import { Injectable } from '@nestjs/common';
import { SessionDirectory, type SessionSearch, sessionView, type Session, SessionsService } from '../../auth/index.js';

import { Clock, NotFoundError } from '../../common/index.js';

import { RequesterContextBuilder } from '../../requester/index.js';
import type { Acting } from '../common/acting.js';
import { changesOf, AdminAudit } from '../common/admin-audit.js';
import { decodeCursor, pageOf, type Page } from '../common/admin-list.js';
import type { SessionsQuery, UserSessionsQuery } from './admin-sessions.schemas.js';
import { timestampIdKey } from '../common/admin-keyset.js';

/** The one order of session lists (the cursor carries it). */
const SORT = 'sessions:-createdAt';
/** `revoke_reason` of sessions an administrator revoked. */
const REVOKED_BY_ADMIN = 'revoked_by_admin';

export type AdminSessionView = ReturnType<typeof sessionView>;

/**
 * What an administrator sees of and does to device sessions. Lists are keyset
 * pages from the database; revocations go through `SessionsService`, the one
 * path that marks a session revoked in the shared store first (its access
 * tokens are refused on the next request, on every instance, and its open
 * `/me` sockets are told) and then in the database (its refresh tokens die).
 */
@Injectable()
export class AdminSessionsService {
  constructor(
    private readonly repository: SessionDirectory,
    private readonly sessions: SessionsService,
    private readonly requesters: RequesterContextBuilder,
    private readonly audit: AdminAudit,
    private readonly clock: Clock,
  ) {}

  /** A user's sessions, newest first: live ones unless `active` is false. */
  async listForUser(userId: string, query: UserSessionsQuery): Promise<Page<AdminSessionView>> {
    await this.assertUser(userId);
    return this.page({ userId, active: query.active }, query);
  }

  /** Every user's sessions, newest first, filtered. */
  list(query: SessionsQuery): Promise<Page<AdminSessionView>> {
    return this.page(
      { userId: query.userId, kind: query.kind, createdVia: query.createdVia, active: query.active },
      query,
    );
  }

  /**
   * Revokes one of the user's sessions: 404 when it is not theirs. Revoking a
   * session already revoked changes nothing and is not an error (DELETE is
   * idempotent); only an actual revocation is audited.
   */
  async revoke(acting: Acting, userId: string, sessionId: string): Promise<void> {
    await this.assertUser(userId);
    const before = await this.sessions.find(sessionId);
    if (!before || before.userId !== userId) throw new NotFoundError('No such session of this user.');
    if (before.revokedAt) return;
    if (!(await this.sessions.revoke(sessionId, REVOKED_BY_ADMIN, userId))) return; // revoked meanwhile by someone else
    const after = await this.sessions.find(sessionId);
    await this.audit.record(
      acting,
      'session.revoked',
      { userId, sessionId },
      {
        reason: REVOKED_BY_ADMIN,
        session: { kind: before.kind, createdVia: before.createdVia, deviceId: before.deviceId },
        changes: changesOf(lifecycle(before), lifecycle(after ?? before)),
      },
    );
  }

  /** Revokes every session of the user (needs a recent sign-in: see the controller); audited even when there was none. */
  async revokeAll(acting: Acting, userId: string): Promise<void> {
    await this.assertUser(userId);
    const revoked = await this.sessions.revokeAll(userId, REVOKED_BY_ADMIN);
    await this.audit.record(
      acting,
      'session.revoked',
      { userId },
      {
        reason: REVOKED_BY_ADMIN,
        all: true,
        sessionIds: revoked,
        changes: changesOf({ activeSessions: revoked.length }, { activeSessions: 0 }),
      },
    );
  }

  private async page(
    filter: Pick<SessionSearch, 'userId' | 'kind' | 'createdVia' | 'active'>,
    query: { limit: number; cursor?: string },
  ): Promise<Page<AdminSessionView>> {
    const after = timestampIdKey(decodeCursor(query.cursor, SORT, 2));
    const rows = await this.repository.page({ ...filter, at: this.clock.date(), after, limit: query.limit });
    return pageOf(
      rows,
      query.limit,
      SORT,
      (row) => row.key,
      (row) => this.view(row.session),
    );
  }

  /** PROTOCOL's session, with the location of its IP from the offline GeoIP databases (null without them). */
  private view(session: Session): AdminSessionView {
    const location = this.requesters.capture({ ip: session.ip, userAgent: null, createdAt: session.createdAt }).context
      .location;
    return { ...sessionView(session), location };
  }

  private async assertUser(userId: string): Promise<void> {
    if (!(await this.repository.userExists(userId))) throw new NotFoundError('No such user.');
  }
}

function lifecycle(session: Session): Record<string, unknown> {
  return { revokedAt: session.revokedAt?.toISOString() ?? null, revokeReason: session.revokeReason };
}
