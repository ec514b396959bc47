import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { MoreThan, type Repository } from 'typeorm';
import { entityFromRow, returnedRows, selectedColumns } from '../database/index.js';
import { Identity } from './identity.entity.js';
import { User, type Role, type UserStatus } from './user.entity.js';

/** The users and identities tables. */
@Injectable()
export class UsersRepository {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectRepository(Identity) private readonly identities: Repository<Identity>,
  ) {}

  /** One user by id (a hot path: every QR exchange and refresh), in plain SQL. */
  async findById(id: string): Promise<User | null> {
    const rows = (await this.users.query(`SELECT ${selectedColumns(this.users.metadata)} FROM users WHERE id = $1`, [
      id,
    ])) as Array<Record<string, unknown>>;
    return rows[0] ? entityFromRow<User>(this.users.metadata, rows[0]) : null;
  }

  /** The user with its password hash (selected only here). */
  findByLoginWithPassword(login: string): Promise<User | null> {
    return this.users
      .createQueryBuilder('user')
      .addSelect('user.passwordHash')
      .where('user.login = :login', { login })
      .andWhere('user.deleted_at IS NULL') // a deleted user's login is reserved, but nobody signs in with it
      .getOne();
  }

  /** The id of the (undeleted) user with this normalised login, or null. */
  async idOfLogin(login: string): Promise<string | null> {
    const rows = (await this.users.query(`SELECT id FROM users WHERE login = $1 AND deleted_at IS NULL`, [
      login,
    ])) as Array<{ id: string }>;
    return rows[0]?.id ?? null;
  }

  findByIdWithPassword(id: string): Promise<User | null> {
    return this.users.createQueryBuilder('user').addSelect('user.passwordHash').where('user.id = :id', { id }).getOne();
  }

  /** Inserts a user; a taken login throws a unique violation (see `isUniqueViolation`). */
  async insert(user: {
    login: string;
    displayName: string;
    passwordHash: string | null;
    roles: Role[];
    avatarUrl?: string | null;
  }): Promise<User> {
    const saved = await this.users.save(
      this.users.create({ ...user, status: 'active', passwordChangedAt: user.passwordHash ? new Date() : null }),
    );
    return (await this.findById(saved.id))!;
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.users.update({ id }, { passwordHash, passwordChangedAt: new Date() });
  }

  async setStatus(id: string, status: UserStatus): Promise<void> {
    await this.users.update({ id }, { status });
  }

  /** The user an identity `(provider, subject)` belongs to, or null. */
  async findByIdentity(provider: string, subject: string): Promise<User | null> {
    const rows = (await this.users.query(
      `SELECT ${selectedColumns(this.users.metadata).replace(/"([a-z_]+)"/g, 'u."$1"')} FROM users u JOIN identities i ON i.user_id = u.id WHERE i.provider = $1 AND i.subject = $2 AND u.deleted_at IS NULL`,
      [provider, subject],
    )) as Array<Record<string, unknown>>;
    return rows[0] ? entityFromRow<User>(this.users.metadata, rows[0]) : null;
  }

  /**
   * A new user (no password) and its first identity, in one transaction. A
   * unique violation means the identity was taken meanwhile (a parallel first
   * sign-in): nothing is kept, the caller looks it up again.
   */
  async insertWithIdentity(
    user: { login: string; displayName: string; avatarUrl: string | null },
    identity: { provider: string; subject: string; subjectKind: string; profile: Record<string, unknown> },
  ): Promise<User> {
    const id = await this.users.manager.transaction(async (em) => {
      const created = await em
        .getRepository(User)
        .save(em.getRepository(User).create({ ...user, passwordHash: null, roles: ['user'], status: 'active' }));
      await em.query(
        'INSERT INTO identities (user_id, provider, subject, subject_kind, profile) VALUES ($1, $2, $3, $4, $5)',
        [created.id, identity.provider, identity.subject, identity.subjectKind, JSON.stringify(identity.profile)],
      );
      return created.id;
    });
    return (await this.findById(id))!;
  }

  /**
   * Links `(provider, subject)` to `userId`, or refreshes its profile when it is
   * already theirs, in one statement; `conflict` when another user holds it.
   */
  async linkIdentity(
    userId: string,
    identity: { provider: string; subject: string; subjectKind: string; profile: Record<string, unknown> },
  ): Promise<{ identity: Identity; created: boolean } | 'conflict'> {
    const rows = returnedRows<Record<string, unknown> & { created: boolean }>(
      await this.identities.query(
        `INSERT INTO identities (user_id, provider, subject, subject_kind, profile) SELECT id, $2, $3, $4, $5 FROM users WHERE id = $1 AND deleted_at IS NULL
         ON CONFLICT (provider, subject) DO UPDATE SET profile = EXCLUDED.profile, subject_kind = EXCLUDED.subject_kind
          WHERE identities.user_id = EXCLUDED.user_id
         RETURNING *, (xmax = 0) AS created`,
        [userId, identity.provider, identity.subject, identity.subjectKind, JSON.stringify(identity.profile)],
      ),
    );
    const row = rows[0];
    return row
      ? { identity: entityFromRow<Identity>(this.identities.metadata, row), created: row.created }
      : 'conflict';
  }

  /** A user's identities linked after `since`, oldest first. */
  listIdentitiesLinkedAfter(userId: string, since: Date): Promise<Identity[]> {
    return this.identities.find({ where: { userId, linkedAt: MoreThan(since) }, order: { linkedAt: 'ASC' } });
  }

  listIdentities(userId: string): Promise<Identity[]> {
    return this.identities.find({ where: { userId }, order: { linkedAt: 'ASC' } });
  }

  /**
   * Deletes an identity unless it is the user's last way to sign in (no
   * password and no other identity), in one conditional statement: two parallel
   * unlinks cannot both pass the check. Returns `deleted`, `last` or `missing`.
   */
  async deleteIdentityUnlessLast(userId: string, identityId: string): Promise<'deleted' | 'last' | 'missing'> {
    return this.identities.manager.transaction(async (em) => {
      // Serialise unlinks of one user: two parallel ones must not each count the other.
      await em.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [userId]);
      const deleted: unknown = await em.query(
        `DELETE FROM identities i
          WHERE i.id = $1 AND i.user_id = $2
            AND (EXISTS (SELECT 1 FROM users u WHERE u.id = $2 AND u.password_hash IS NOT NULL)
                 OR EXISTS (SELECT 1 FROM identities o WHERE o.user_id = $2 AND o.id <> $1))
          RETURNING i.id`,
        [identityId, userId],
      );
      if (returnedRows(deleted).length > 0) return 'deleted';
      const exists = await em.getRepository(Identity).exists({ where: { id: identityId, userId } });
      return exists ? 'last' : 'missing';
    });
  }
}
