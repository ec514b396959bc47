import { Injectable } from '@nestjs/common';
import { identityView } from '../../auth/index.js';
import { NotFoundError, ValidationError } from '../../common/index.js';
import { type Identity, UsersService } from '../../users/index.js';

import type { Acting } from '../common/acting.js';
import { AdminAudit, changesOf } from '../common/admin-audit.js';
import { decodeCursor, pageOf, type Page } from '../common/admin-list.js';

/** The one order of identity lists: oldest link first (the cursor carries it). */
const SORT = 'identities:linkedAt';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type AdminIdentityView = ReturnType<typeof identityView>;

/** What the audit trail keeps of an identity (never a token: identities hold none). */
function auditable(identity: Identity): Record<string, unknown> {
  return { id: identity.id, provider: identity.provider, subject: identity.subject, subjectKind: identity.subjectKind };
}

/**
 * A user's provider identities, for administrators: list, and unlink — never
 * the last way to sign in (`UsersService.unlinkIdentity` checks and deletes in
 * one locked statement, so two parallel unlinks cannot both pass).
 */
@Injectable()
export class AdminIdentitiesService {
  constructor(
    private readonly users: UsersService,
    private readonly audit: AdminAudit,
  ) {}

  /**
   * The user's identities, oldest link first, in pages of the list contract.
   * A user has a handful at most (one per provider account), so they are read
   * whole and paged here on `(linkedAt, id)`.
   */
  async list(userId: string, query: { limit: number; cursor?: string }): Promise<Page<AdminIdentityView>> {
    await this.assertUser(userId);
    const after = afterKey(decodeCursor(query.cursor, SORT, 2));
    const ordered = [...(await this.users.listIdentities(userId))].sort(byLink);
    const rest = after ? ordered.filter((i) => byLink(i, after) > 0) : ordered;
    return pageOf(
      rest.slice(0, query.limit + 1),
      query.limit,
      SORT,
      (i) => [i.linkedAt.toISOString(), i.id],
      identityView,
    );
  }

  /** Unlinks one of the user's identities: 404 when it is not theirs, 409 `identity.last_method` when it is their last way in. */
  async unlink(acting: Acting, userId: string, identityId: string): Promise<void> {
    await this.assertUser(userId);
    const identity = (await this.users.listIdentities(userId)).find((i) => i.id === identityId);
    if (!identity) throw new NotFoundError('No such identity of this user.');
    await this.users.unlinkIdentity(userId, identityId);
    await this.audit.record(
      acting,
      'identity.unlinked',
      { userId },
      {
        identity: identity.id,
        provider: identity.provider,
        subjectKind: identity.subjectKind,
        changes: changesOf({ identity: auditable(identity) }, { identity: null }),
      },
    );
  }

  private async assertUser(userId: string): Promise<void> {
    const user = await this.users.find(userId);
    if (!user || user.deletedAt) throw new NotFoundError('No such user.');
  }
}

function byLink(a: Pick<Identity, 'linkedAt' | 'id'>, b: Pick<Identity, 'linkedAt' | 'id'>): number {
  return a.linkedAt.getTime() - b.linkedAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The `(linkedAt, id)` a cursor carries, checked (a hand-made cursor could carry anything). */
function afterKey(key: string[] | null): Pick<Identity, 'linkedAt' | 'id'> | null {
  if (key === null) return null;
  const [at, id] = key;
  const linkedAt = new Date(at ?? '');
  if (Number.isNaN(linkedAt.getTime()) || linkedAt.toISOString() !== at || !id || !UUID.test(id)) {
    throw new ValidationError([{ path: 'cursor', message: 'is not a cursor from this API' }]);
  }
  return { linkedAt, id: id.toLowerCase() };
}
