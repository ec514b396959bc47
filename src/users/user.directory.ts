import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { entityFromRow, returnedRows, selectedColumns, type CursorKey } from '../database/index.js';
import { User, type Role, type UserStatus } from './user.entity.js';

type UserSort = 'createdAt' | '-createdAt' | 'login' | '-login';

export interface UserSearch {
  q?: string;
  status?: UserStatus;
  role?: Role;
  provider?: string;
  createdFrom?: Date;
  createdTo?: Date;
  sort: UserSort;
  after: CursorKey | null;
  limit: number;
}

/** A user row with its keyset values and version, as Postgres prints them (no precision lost). */
/** What an operator may change on a user (admin API); the password arrives hashed. */
export interface UserChange {
  displayName?: string;
  avatarUrl?: string | null;
  roles?: Role[];
  status?: UserStatus;
  passwordHash?: string;
}

export interface UserRow {
  user: User;
  /** `updated_at` to the microsecond: the user's version (its ETag). */
  version: string;
  key: CursorKey;
}

const SORT_COLUMN: Record<UserSort, string> = {
  createdAt: 'created_at',
  '-createdAt': 'created_at',
  login: 'login',
  '-login': 'login',
};

/** `%text%` for LIKE, with LIKE's own characters escaped. */
function containing(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The users table as operators see it (the admin API's only way to it): search
 * and keyset pages, conditional updates (a stale version changes nothing),
 * soft and hard deletes. Soft deleted users are invisible here. Owned by
 * users/ like every write to `users` and `identities`.
 */
@Injectable()
export class UserDirectory {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  private get columns(): string {
    return selectedColumns(this.users.metadata).replace(/"([a-z_]+)"/g, 'u."$1"');
  }

  private row(raw: Record<string, unknown>): UserRow {
    return {
      user: entityFromRow<User>(this.users.metadata, raw),
      version: raw.version as string,
      key: [raw.k1 as string, raw.k2 as string],
    };
  }

  /**
   * One page of users. `q` is a case-insensitive substring of the login, the
   * display name or an identity subject: three trigram-indexed lookups
   * (`IDX_users_login_trgm`, `IDX_users_display_name_trgm`,
   * `IDX_identities_subject_trgm`) united, then filtered and ordered by the
   * sort key with the id as tie-breaker.
   */
  async search(search: UserSearch): Promise<UserRow[]> {
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    const where = ['u.deleted_at IS NULL'];
    if (search.q !== undefined) {
      const pattern = param(containing(search.q));
      where.push(
        `u.id IN (SELECT id FROM users WHERE lower(login) LIKE ${pattern} UNION SELECT id FROM users WHERE lower(display_name) LIKE ${pattern} UNION SELECT user_id FROM identities WHERE lower(subject) LIKE ${pattern})`,
      );
    }
    if (search.status) where.push(`u.status = ${param(search.status)}`);
    if (search.role) where.push(`${param(search.role)} = ANY(u.roles)`);
    if (search.provider)
      where.push(
        `EXISTS (SELECT 1 FROM identities i WHERE i.user_id = u.id AND i.provider = ${param(search.provider)})`,
      );
    if (search.createdFrom) where.push(`u.created_at >= ${param(search.createdFrom)}`);
    if (search.createdTo) where.push(`u.created_at < ${param(search.createdTo)}`);
    const column = SORT_COLUMN[search.sort];
    const descending = search.sort.startsWith('-');
    const cast = column === 'created_at' ? 'timestamptz' : 'text';
    if (search.after) {
      where.push(
        `(u.${column}, u.id) ${descending ? '<' : '>'} (${param(search.after[0])}::${cast}, ${param(search.after[1])}::uuid)`,
      );
    }
    const direction = descending ? 'DESC' : 'ASC';
    const rows = (await this.users.query(
      `SELECT ${this.columns}, u.updated_at::text AS version, u.${column}::text AS k1, u.id::text AS k2
         FROM users u
        WHERE ${where.join(' AND ')}
        ORDER BY u.${column} ${direction}, u.id ${direction}
        LIMIT ${param(search.limit + 1)}`,
      params,
    )) as Array<Record<string, unknown>>;
    return rows.map((raw) => this.row(raw));
  }

  /** A user that is not deleted, with its version; null when there is none. */
  async find(id: string): Promise<UserRow | null> {
    const rows = (await this.users.query(
      `SELECT ${this.columns}, u.updated_at::text AS version, u.created_at::text AS k1, u.id::text AS k2 FROM users u WHERE u.id = $1 AND u.deleted_at IS NULL`,
      [id],
    )) as Array<Record<string, unknown>>;
    return rows[0] ? this.row(rows[0]) : null;
  }

  /**
   * Applies `change` in one statement, only if the user is not deleted and,
   * when `version` is given, still at that version. Null: nothing matched (the
   * caller tells a missing user from a stale version). A new password comes
   * hashed (UsersService.hashNewPassword checks the policy) and restarts its age.
   */
  async update(id: string, change: UserChange, version: string | null): Promise<UserRow | null> {
    const changes: Record<string, unknown> = {};
    if (change.displayName !== undefined) changes.display_name = change.displayName;
    if (change.avatarUrl !== undefined) changes.avatar_url = change.avatarUrl;
    if (change.roles !== undefined) changes.roles = [...new Set(change.roles)];
    if (change.status !== undefined) changes.status = change.status;
    if (change.passwordHash !== undefined) {
      changes.password_hash = change.passwordHash;
      changes.password_changed_at = new Date();
    }
    const params: unknown[] = [id];
    const param = (value: unknown) => `$${params.push(value)}`;
    const sets = Object.entries(changes).map(([column, value]) => `"${column}" = ${param(value)}`);
    sets.push('updated_at = clock_timestamp()');
    // Compared as text, exactly as the version was printed: a tag from elsewhere simply does not match (never a cast error).
    const condition = version === null ? '' : ` AND updated_at::text = ${param(version)}`;
    const rows = returnedRows<Record<string, unknown>>(
      await this.users.query(
        `UPDATE users u SET ${sets.join(', ')} WHERE u.id = $1 AND u.deleted_at IS NULL${condition}
         RETURNING ${this.columns}, u.updated_at::text AS version, u.created_at::text AS k1, u.id::text AS k2`,
        params,
      ),
    );
    return rows[0] ? this.row(rows[0]) : null;
  }

  /** Soft delete: marked deleted and disabled, its identities removed, in one transaction. False when there was nothing to delete. */
  async softDelete(id: string): Promise<boolean> {
    return this.users.manager.transaction(async (em) => {
      const rows = returnedRows(
        await em.query(
          `UPDATE users SET deleted_at = clock_timestamp(), status = 'disabled', updated_at = clock_timestamp() WHERE id = $1 AND deleted_at IS NULL RETURNING id`,
          [id],
        ),
      );
      if (rows.length === 0) return false;
      await em.query('DELETE FROM identities WHERE user_id = $1', [id]);
      return true;
    });
  }

  /** Hard delete: the row goes, and with it (cascade) its sessions, refresh tokens and identities. */
  async hardDelete(id: string): Promise<boolean> {
    return returnedRows(await this.users.query('DELETE FROM users WHERE id = $1 RETURNING id', [id])).length === 1;
  }

  /**
   * Whether the user exists (tells a stale version from a missing user);
   * `includingDeleted`: a soft-deleted row counts too (a hard delete may follow a soft one).
   */
  async exists(id: string, includingDeleted = false): Promise<boolean> {
    const rows = (await this.users.query(
      `SELECT 1 FROM users WHERE id = $1${includingDeleted ? '' : ' AND deleted_at IS NULL'}`,
      [id],
    )) as unknown[];
    return rows.length === 1;
  }
}
