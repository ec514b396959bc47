import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import type { Principal } from '../../auth/auth.principal.js';
import { SessionsService, type ClientContext } from '../../auth/sessions/sessions.service.js';
import type { User } from '../../users/user.entity.js';
import { UsersService } from '../../users/users.service.js';
import type { CreateUserBody, PatchUserBody } from './admin-users.schemas.js';

/** What an administrator does to users; every change is audited. */
@Injectable()
export class AdminUsersService {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
  ) {}

  async create(actor: Principal, body: CreateUserBody, client: ClientContext): Promise<User> {
    const user = await this.users.create(body);
    await this.audit.record({
      type: 'user.created',
      actorId: actor.userId,
      userId: user.id,
      ...client,
      detail: { login: user.login, roles: user.roles, withPassword: body.password !== undefined },
    });
    return user;
  }

  async get(id: string): Promise<{ user: User; activeSessions: number; identities: Awaited<ReturnType<UsersService['listIdentities']>> }> {
    const user = await this.users.get(id);
    const [sessions, identities] = await Promise.all([this.sessions.listActive(id), this.users.listIdentities(id)]);
    return { user, activeSessions: sessions.length, identities };
  }

  /**
   * Disabling a user, or setting a new password, revokes every session at once:
   * their access tokens are refused on the next request, on every instance.
   */
  async patch(actor: Principal, id: string, body: PatchUserBody, client: ClientContext): Promise<User> {
    const before = await this.users.get(id);
    const changed: string[] = [];
    if (body.password !== undefined) {
      await this.users.setPassword(before, body.password);
      changed.push('password');
    }
    if (body.status !== undefined && body.status !== before.status) {
      await this.users.setStatus(id, body.status);
      changed.push('status');
    }
    let revoked: string[] = [];
    if (changed.includes('password') || body.status === 'disabled') {
      revoked = await this.sessions.revokeAll(id, body.status === 'disabled' ? 'user_disabled' : 'password_changed_by_admin');
    }
    await this.audit.record({
      type: 'user.updated',
      actorId: actor.userId,
      userId: id,
      ...client,
      detail: {
        changed,
        ...(changed.includes('status') ? { status: { before: before.status, after: body.status } } : {}),
        revokedSessions: revoked.length,
      },
    });
    return this.users.get(id);
  }
}
