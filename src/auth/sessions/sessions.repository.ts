import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import { RefreshToken } from './refresh-token.entity.js';
import { entityFromRow, returnedRows } from '../../database/index.js';
import { Session, type SessionKind } from './session.entity.js';
import { User } from '../../users/index.js';

export type NewSession = Omit<Session, 'id' | 'createdAt' | 'user' | 'revokedAt' | 'revokeReason'>;

/** Sessions and their refresh-token families. Every state change is one conditional statement. */
@Injectable()
export class SessionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * Whether the user is active, holding a share lock on its row until the
   * transaction ends: an administrator's disable (an UPDATE of that row) then
   * waits for this sign-in to commit, and its revocation sees the new session.
   */
  async lockActiveUser(em: EntityManager, userId: string): Promise<boolean> {
    const rows = (await em.query('SELECT status FROM users WHERE id = $1 FOR SHARE', [userId])) as Array<{
      status: string;
    }>;
    return rows[0]?.status === 'active';
  }

  /**
   * Serialises sign-ins of one device of one user until the transaction ends,
   * so that parallel ones replace each other in turn instead of colliding on
   * the one-active-session-per-device index.
   */
  async lockDevice(em: EntityManager, userId: string, deviceId: string): Promise<void> {
    await em.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`device:${userId}:${deviceId}`]);
  }

  /** Revokes the active sessions of a user's device, returning their ids. */
  async revokeActiveForDevice(
    em: EntityManager,
    userId: string,
    deviceId: string,
    at: Date,
    reason: string,
  ): Promise<string[]> {
    return ids(
      await em.query(
        `UPDATE sessions SET revoked_at = $3, revoke_reason = $4
          WHERE user_id = $1 AND device_id = $2 AND revoked_at IS NULL RETURNING id`,
        [userId, deviceId, at, reason],
      ),
    );
  }

  /**
   * A session without a device (a browser's) and its first refresh token, in
   * one statement: it holds a share lock on the user's row as `lockActiveUser`
   * does, and inserts nothing (null) unless the user is active.
   */
  async insertWebSession(session: NewSession, tokenHash: Buffer, at: Date): Promise<Session | null> {
    const rows = (await this.dataSource.query(
      `WITH u AS (SELECT id FROM users WHERE id = $1 AND status = 'active' FOR SHARE),
            s AS (INSERT INTO sessions (user_id, kind, created_via, ip, user_agent, last_seen_at, authenticated_at, refresh_expires_at, absolute_expires_at)
                  SELECT u.id, $2, $3, $4, $5, $6, $7, $8, $9 FROM u RETURNING *),
            r AS (INSERT INTO refresh_tokens (session_id, token_hash, created_at) SELECT s.id, $10, $11 FROM s)
       SELECT * FROM s`,
      [
        session.userId,
        session.kind,
        session.createdVia,
        session.ip,
        session.userAgent,
        session.lastSeenAt,
        session.authenticatedAt,
        session.refreshExpiresAt,
        session.absoluteExpiresAt,
        tokenHash,
        at,
      ],
    )) as Array<Record<string, unknown>>;
    return rows[0] ? entityFromRow<Session>(this.dataSource.getMetadata(Session), rows[0]) : null;
  }

  async insertSession(em: EntityManager, session: NewSession): Promise<Session> {
    const repo = em.getRepository(Session);
    return repo.save(repo.create(session));
  }

  async insertRefreshToken(em: EntityManager, sessionId: string, tokenHash: Buffer, at: Date): Promise<void> {
    await em.getRepository(RefreshToken).insert({ sessionId, tokenHash, createdAt: at, rotatedAt: null });
  }

  /**
   * Marks an unused refresh token used and returns its session id: of any
   * number of parallel calls with the same token, exactly one gets it. Only a
   * token of a `kind` session counts: a web session's token is refreshed only
   * through its cookie, a mobile one's only through the body.
   */
  async rotateRefreshToken(em: EntityManager, tokenHash: Buffer, at: Date, kind: SessionKind): Promise<string | null> {
    const rows = await em.query(
      `UPDATE refresh_tokens rt SET rotated_at = $2
         FROM sessions s
        WHERE rt.token_hash = $1 AND rt.rotated_at IS NULL AND s.id = rt.session_id AND s.kind = $3
        RETURNING rt.session_id`,
      [tokenHash, at, kind],
    );
    return returnedRows<{ session_id: string }>(rows)[0]?.session_id ?? null;
  }

  /**
   * The session's user if active, read in the rotation's transaction (share
   * lock): nothing the answer needs is read after the commit.
   */
  async activeUser(em: EntityManager, userId: string): Promise<User | null> {
    return em
      .getRepository(User)
      .createQueryBuilder('u')
      .setLock('pessimistic_read')
      .where('u.id = :id AND u.status = :active AND u.deletedAt IS NULL', { id: userId, active: 'active' })
      .getOne();
  }

  /** A token that exists but was already rotated: when, and whose. */
  async findRotated(tokenHash: Buffer): Promise<{ sessionId: string; rotatedAt: Date } | null> {
    const token = await this.dataSource.getRepository(RefreshToken).findOne({ where: { tokenHash } });
    return token?.rotatedAt ? { sessionId: token.sessionId, rotatedAt: token.rotatedAt } : null;
  }

  /** Slides a live session's refresh window; null when it is revoked or expired. */
  async touchActive(
    em: EntityManager,
    sessionId: string,
    at: Date,
    refreshExpiresAt: (s: Session) => Date,
  ): Promise<Session | null> {
    const repo = em.getRepository(Session);
    const session = await repo
      .createQueryBuilder('s')
      .setLock('pessimistic_write')
      .where('s.id = :id AND s.revokedAt IS NULL AND s.refreshExpiresAt > :at AND s.absoluteExpiresAt > :at', {
        id: sessionId,
        at,
      })
      .getOne();
    if (!session) return null;
    session.lastSeenAt = at;
    session.refreshExpiresAt = refreshExpiresAt(session);
    await repo.update({ id: session.id }, { lastSeenAt: at, refreshExpiresAt: session.refreshExpiresAt });
    return session;
  }

  /** Revokes one session if still active; returns whether it was. */
  async revoke(sessionId: string, at: Date, reason: string, userId?: string): Promise<boolean> {
    const rows = await this.dataSource.query(
      `UPDATE sessions SET revoked_at = $2, revoke_reason = $3
        WHERE id = $1 AND revoked_at IS NULL ${userId ? 'AND user_id = $4' : ''} RETURNING id`,
      userId ? [sessionId, at, reason, userId] : [sessionId, at, reason],
    );
    return ids(rows).length === 1;
  }

  /** Revokes every active session of a user (but `keep`), returning their ids. */
  async revokeAllForUser(userId: string, at: Date, reason: string, keep?: string): Promise<string[]> {
    return ids(
      await this.dataSource.query(
        `UPDATE sessions SET revoked_at = $2, revoke_reason = $3
          WHERE user_id = $1 AND revoked_at IS NULL ${keep ? 'AND id <> $4' : ''} RETURNING id`,
        keep ? [userId, at, reason, keep] : [userId, at, reason],
      ),
    );
  }

  /** Active sessions of a user, newest first. */
  listActive(userId: string, at: Date): Promise<Session[]> {
    return this.dataSource
      .getRepository(Session)
      .createQueryBuilder('s')
      .where('s.userId = :userId AND s.revokedAt IS NULL AND s.refreshExpiresAt > :at AND s.absoluteExpiresAt > :at', {
        userId,
        at,
      })
      .orderBy('s.createdAt', 'DESC')
      .getMany();
  }

  /** Active session ids of a user (to mark them revoked before the database says so). */
  async activeIds(userId: string, keep?: string): Promise<string[]> {
    const sessions = await this.dataSource
      .getRepository(Session)
      .find({ select: { id: true }, where: { userId, revokedAt: IsNull() } });
    return sessions.map((s) => s.id).filter((id) => id !== keep);
  }

  async setAuthenticatedAt(sessionId: string, at: Date): Promise<void> {
    await this.dataSource.getRepository(Session).update({ id: sessionId }, { authenticatedAt: at });
  }

  /** The device key of a user's active (unrevoked, unexpired) session on that device, if it registered one. */
  async activeDeviceKey(userId: string, deviceId: string, at: Date): Promise<Session['devicePublicKey']> {
    const rows = (await this.dataSource.query(
      `SELECT device_public_key FROM sessions
        WHERE user_id = $1 AND device_id = $2 AND revoked_at IS NULL AND refresh_expires_at > $3 LIMIT 1`,
      [userId, deviceId, at],
    )) as Array<{ device_public_key: Session['devicePublicKey'] }>;
    return rows[0]?.device_public_key ?? null;
  }

  findById(sessionId: string): Promise<Session | null> {
    return this.dataSource.getRepository(Session).findOne({ where: { id: sessionId } });
  }
}

function ids(result: unknown): string[] {
  return returnedRows<{ id: string }>(result).map((r) => r.id);
}
