import { Injectable } from '@nestjs/common';
import { AuthError, SessionsService, userView } from '../../auth/index.js';

import { NotFoundError } from '../../common/index.js';
import { type User, UserDirectory, type UserRow, UsersService } from '../../users/index.js';

import { AdminError } from '../common/admin.errors.js';
import type { Acting } from '../common/acting.js';
import { decodeCursor, pageOf, type Page } from '../common/admin-list.js';
import { textIdKey, timestampIdKey } from '../common/admin-keyset.js';
import { AdminAudit, changesOf } from '../common/admin-audit.js';
import { RecentSignInGuard } from '../common/recent-sign-in.guard.js';
import type { CreateUserBody, PatchUserBody, UserListQuery } from './admin-users.schemas.js';

/** A user's version as a strong ETag: its `updated_at` to the microsecond, opaque. */
export function etagOf(row: UserRow): string {
  return `"${Buffer.from(row.version).toString('base64url')}"`;
}

/** The version an `If-Match` names: null for `*` or no header (last write wins); `stale` for a value that cannot match. */
function versionIn(ifMatch: string | undefined): string | null | 'stale' {
  if (ifMatch === undefined || ifMatch.trim() === '*') return null;
  const match = /^"([A-Za-z0-9_-]{1,128})"$/.exec(ifMatch.trim());
  return match ? Buffer.from(match[1]!, 'base64url').toString('utf8') : 'stale';
}

/** What the user view shows, for the audit trail's before/after. */
function auditable(user: User): Record<string, unknown> {
  return {
    displayName: user.displayName,
    avatarUrl: user.avatarUrl,
    roles: [...user.roles].sort(),
    status: user.status,
  };
}

/**
 * What an administrator does to users. Every change is one conditional
 * statement (a stale `If-Match` changes nothing), then its consequences
 * (sessions revoked at once, sockets told), then one audit event with the
 * before/after of the changed fields. Destructive changes need a recent sign-in.
 */
@Injectable()
export class AdminUsersService {
  constructor(
    private readonly users: UsersService,
    private readonly repository: UserDirectory,
    private readonly sessions: SessionsService,
    private readonly audit: AdminAudit,
    private readonly recent: RecentSignInGuard,
  ) {}

  async list(query: UserListQuery): Promise<Page<ReturnType<typeof userView>>> {
    const key = decodeCursor(query.cursor, query.sort, 2);
    const after = query.sort.endsWith('createdAt') ? timestampIdKey(key) : textIdKey(key);
    const rows = await this.repository.search({ ...query, after });
    return pageOf(
      rows,
      query.limit,
      query.sort,
      (row) => row.key,
      (row) => userView(row.user),
    );
  }

  async create(acting: Acting, body: CreateUserBody): Promise<UserRow> {
    // Making an admin or an auditor is a role change like any other: it needs a recent sign-in.
    if (body.roles?.some((role) => role !== 'user') && !(await this.recent.isRecent(acting.actor)))
      throw new AuthError('auth.reauth_required');
    const user = await this.users.create(body);
    await this.audit.record(
      acting,
      'user.created',
      { userId: user.id },
      { after: { login: user.login, ...auditable(user) }, withPassword: body.password !== undefined },
    );
    return (await this.repository.find(user.id))!;
  }

  async get(id: string) {
    const row = await this.repository.find(id);
    if (!row) throw new NotFoundError('No such user.');
    const [sessions, identities] = await Promise.all([this.sessions.listActive(id), this.users.listIdentities(id)]);
    return { row, activeSessions: sessions.length, identities };
  }

  async patch(acting: Acting, id: string, body: PatchUserBody, ifMatch: string | undefined): Promise<UserRow> {
    const destructive = body.roles !== undefined || body.password !== undefined || body.status === 'disabled';
    if (destructive && !(await this.recent.isRecent(acting.actor))) throw new AuthError('auth.reauth_required');
    if (id === acting.actor.userId && (body.status === 'disabled' || (body.roles && !body.roles.includes('admin')))) {
      throw new AuthError('auth.forbidden', 'You cannot disable yourself or take away your own admin role.');
    }
    const version = versionIn(ifMatch);
    if (version === 'stale')
      throw new AdminError(
        'precondition_failed',
        'This user changed since you read it: reload it and apply your change again.',
      );
    const before = await this.repository.find(id);
    if (!before) throw new NotFoundError('No such user.');

    const { password, ...fields } = body;
    const passwordHash = password === undefined ? undefined : await this.users.hashNewPassword(before.user, password);
    const after = await this.repository.update(id, { ...fields, passwordHash }, version);
    if (!after) {
      if (await this.repository.exists(id))
        throw new AdminError(
          'precondition_failed',
          'This user changed since you read it: reload it and apply your change again.',
        );
      throw new NotFoundError('No such user.');
    }
    const changes = changesOf(auditable(before.user), auditable(after.user));
    if (body.password !== undefined) changes.password = { before: '[secret]', after: '[changed]' };
    // Disabled, new password or other roles: every session goes now (tokens carry the roles).
    const reason =
      changes.status && after.user.status === 'disabled'
        ? 'user_disabled'
        : changes.password
          ? 'password_changed_by_admin'
          : changes.roles
            ? 'roles_changed'
            : null;
    const revoked = reason ? await this.sessions.revokeAll(id, reason) : [];
    await this.audit.record(acting, 'user.updated', { userId: id }, { changes, revokedSessions: revoked.length });
    return after;
  }

  /** Soft by default (sessions revoked, identities removed, login kept reserved); `hard` removes the row and everything hanging from it. */
  async delete(acting: Acting, id: string, hard: boolean): Promise<void> {
    if (!(await this.recent.isRecent(acting.actor))) throw new AuthError('auth.reauth_required');
    if (id === acting.actor.userId) throw new AuthError('auth.forbidden', 'You cannot delete yourself.');
    const before = await this.repository.find(id);
    // A hard delete may follow a soft one (the row is still there, only hidden).
    if (!before && !(hard && (await this.repository.exists(id, true)))) throw new NotFoundError('No such user.');
    // Marked deleted (and disabled) first, so that no sign-in can start a session after the revocation below.
    const marked = await this.repository.softDelete(id);
    if (!marked && !hard) throw new NotFoundError('No such user.');
    // Then every session: tokens die on the next request and open sockets are told, even for a hard delete.
    const revoked = await this.sessions.revokeAll(id, 'user_deleted');
    if (hard && !(await this.repository.hardDelete(id))) throw new NotFoundError('No such user.');
    await this.audit.record(
      acting,
      'user.deleted',
      { userId: id },
      {
        hard,
        before: before ? { login: before.user.login, ...auditable(before.user) } : { deleted: true },
        revokedSessions: revoked.length,
      },
    );
  }
}
