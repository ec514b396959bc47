import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { AuditService } from '../../audit/index.js';
import { Clock, CryptoService, NotFoundError } from '../../common/index.js';

import { AUTH_CONFIG, type AuthConfig } from '../../config/index.js';
import { isUniqueViolation } from '../../database/index.js';
import { AuthError } from '../auth.errors.js';
import { isDeviceSignature } from './device-signature.js';
import { RevocationStore } from './revocation.store.js';
import type { DevicePublicJwk, Session, SessionKind } from './session.entity.js';
import type { User } from '../../users/index.js';
import { SessionsRepository } from './sessions.repository.js';

const DAY_MS = 86_400_000;
/** Device keys kept in memory per instance (a key object is a few hundred bytes). */
const DEVICE_KEYS_CACHED = 10_000;

import type { ClientContext } from '../client-context.js';

export interface DeviceInfo {
  id: string;
  name: string;
  platform: string;
  publicKey?: DevicePublicJwk;
}

export interface IssuedSession {
  session: Session;
  refreshToken: string;
  /** The session's user, read in the same transaction (rotation only). */
  user?: User;
  /** Sessions this one replaced (the same device's previous sign-in). */
  replaced?: string[];
}

/**
 * Device sessions and their refresh-token families: creation (one active
 * session per device), rotation with reuse detection, revocation (in the
 * database and, for the access tokens still out there, in the shared store).
 */
@Injectable()
export class SessionsService {
  /** Session id → its device key (or none): fixed at sign-in, so safe to keep. */
  private readonly deviceKeys = new LRUCache<string, { key: KeyObject | null }>({ max: DEVICE_KEYS_CACHED });

  constructor(
    private readonly repository: SessionsRepository,
    private readonly revocations: RevocationStore,
    private readonly crypto: CryptoService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  /**
   * Starts a session. A mobile sign-in on a device that already has an active
   * session revokes it (`replaced`) in the same transaction; the partial unique
   * index keeps two racing sign-ins of one device from both staying active.
   */
  async start(
    userId: string,
    kind: SessionKind,
    createdVia: string,
    context: ClientContext,
    device?: DeviceInfo,
  ): Promise<IssuedSession> {
    const begin = () => this.startOnce(userId, kind, createdVia, context, device);
    // Sign-ins of one device are serialised (lockDevice); a unique violation is still
    // possible against a session inserted without that lock, so try once more.
    return begin().catch((error: unknown) => {
      if (isUniqueViolation(error)) return begin();
      throw error;
    });
  }

  private async startOnce(
    ...[userId, kind, createdVia, context, device]: Parameters<SessionsService['start']>
  ): Promise<IssuedSession> {
    const now = this.clock.date();
    const refreshToken = this.crypto.randomToken();
    const absolute = new Date(now.getTime() + this.config.refreshTtlDays.absolute * DAY_MS);
    const fields = {
      userId,
      kind,
      createdVia,
      deviceId: device?.id ?? null,
      deviceName: device?.name ?? null,
      devicePlatform: device?.platform ?? null,
      devicePublicKey: device?.publicKey ?? null,
      ip: context.ip,
      userAgent: context.userAgent?.slice(0, 512) ?? null,
      lastSeenAt: now,
      // Only a password proves a credential at sign-in; a QR approval or a provider alone does not.
      authenticatedAt: createdVia === 'password' ? now : null,
      refreshExpiresAt: minDate(new Date(now.getTime() + this.slidingMs(kind, createdVia)), absolute),
      absoluteExpiresAt: absolute,
    };
    if (!device) {
      // Nothing to replace: one statement (one round trip, one commit).
      const session = await this.repository.insertWebSession(fields, this.crypto.sha256(refreshToken), now);
      if (!session) throw new AuthError('auth.account_disabled');
      return { session, refreshToken };
    }
    return this.repository.transaction(async (em) => {
      if (!(await this.repository.lockActiveUser(em, userId))) throw new AuthError('auth.account_disabled');
      let replaced: string[] = [];
      if (kind === 'mobile') {
        await this.repository.lockDevice(em, userId, device.id);
        replaced = await this.repository.revokeActiveForDevice(em, userId, device.id, now, 'replaced');
        // Tokens of the replaced session die now, on every instance.
        if (replaced.length > 0) await this.revocations.markRevoked(replaced);
      }
      const session = await this.repository.insertSession(em, fields);
      await this.repository.insertRefreshToken(em, session.id, this.crypto.sha256(refreshToken), now);
      return { session, refreshToken, replaced };
    });
  }

  /**
   * Exchanges a refresh token for the next one. The old token is marked used by
   * a conditional update (one winner among parallel calls), all in one
   * transaction with the new token, the slid window and the read of the user
   * (active, or the session is revoked): after the commit nothing can fail but
   * the answer, so a database lost mid-way never leaves a rotated family whose
   * new head nobody received. A used token coming back later than the grace
   * period revokes the whole session (`auth.refresh_reused`).
   */
  async rotate(
    refreshToken: string,
    kind: SessionKind,
    context: ClientContext,
  ): Promise<(IssuedSession & { user: User }) | 'invalid' | 'reused'> {
    const now = this.clock.date();
    const hash = this.crypto.sha256(refreshToken);
    const next = this.crypto.randomToken();
    const rotated = await this.repository.transaction(async (em) => {
      const sessionId = await this.repository.rotateRefreshToken(em, hash, now, kind);
      if (!sessionId) return null;
      const session = await this.repository.touchActive(em, sessionId, now, (s) =>
        minDate(new Date(now.getTime() + this.slidingMs(s.kind, s.createdVia)), s.absoluteExpiresAt),
      );
      if (!session) return 'dead' as const;
      const user = await this.repository.activeUser(em, session.userId);
      if (!user) return { disabled: session.id as string };
      await this.repository.insertRefreshToken(em, session.id, this.crypto.sha256(next), now);
      return { session, user };
    });
    if (rotated === 'dead') return 'invalid';
    if (rotated && rotated.disabled !== undefined) {
      await this.revoke(rotated.disabled, 'user_disabled');
      return 'invalid';
    }
    if (rotated) return { session: rotated.session!, user: rotated.user!, refreshToken: next };

    const used = await this.repository.findRotated(hash);
    if (!used) return 'invalid';
    if (now.getTime() - used.rotatedAt.getTime() <= this.config.refreshReuseGraceSeconds * 1000) {
      // A parallel refresh lost the race: refused, but the session lives on.
      return 'invalid';
    }
    const session = await this.repository.findById(used.sessionId);
    if (await this.revoke(used.sessionId, 'refresh_reused')) {
      await this.audit.recordDone({
        type: 'auth.refresh_reused',
        userId: session?.userId,
        sessionId: used.sessionId,
        ...context,
      });
    }
    return 'reused';
  }

  /** Revokes one session; `userId` restricts it to that user's sessions. Returns whether it was active. */
  async revoke(sessionId: string, reason: string, userId?: string): Promise<boolean> {
    await this.revocations.markRevoked([sessionId]);
    return this.repository.revoke(sessionId, this.clock.date(), reason, userId);
  }

  /**
   * Ends a session whose tokens were never handed to anyone (an exchange that
   * failed after signing in): the database row first, so it ends even while
   * the revocation store is down; the store's mark after, as a courtesy.
   */
  async discard(sessionId: string, reason: string): Promise<void> {
    await this.repository.revoke(sessionId, this.clock.date(), reason);
    await this.revocations.markRevoked([sessionId]).catch(() => undefined);
  }

  /** Revokes a user's session or answers 404 (another user's session is "not found"); audited. */
  async revokeOwn(userId: string, sessionId: string, reason: string, context: ClientContext): Promise<void> {
    const session = await this.repository.findById(sessionId);
    if (!session || session.userId !== userId || session.revokedAt) throw new NotFoundError('No such active session.');
    if (await this.revoke(sessionId, reason, userId)) {
      await this.audit.recordDone({
        type: 'session.revoked',
        actorId: userId,
        userId,
        sessionId,
        ...context,
        detail: { reason },
      });
    }
  }

  /** Revokes every session of a user but `keep`; their access tokens die on the next request. */
  async revokeAll(userId: string, reason: string, keep?: string): Promise<string[]> {
    const active = await this.repository.activeIds(userId, keep);
    await this.revocations.markRevoked(active);
    const revoked = await this.repository.revokeAllForUser(userId, this.clock.date(), reason, keep);
    // Sessions started between the two statements are caught by the second.
    const late = revoked.filter((id) => !active.includes(id));
    if (late.length > 0) await this.revocations.markRevoked(late);
    return revoked;
  }

  /** Whether the session was revoked (within the lifetime of its access tokens; one store lookup). */
  isRevoked(sessionId: string): Promise<boolean> {
    return this.revocations.isRevoked(sessionId);
  }

  listActive(userId: string): Promise<Session[]> {
    return this.repository.listActive(userId, this.clock.date());
  }

  find(sessionId: string): Promise<Session | null> {
    return this.repository.findById(sessionId);
  }

  /**
   * The public key a session's device registered at sign-in, or null when it
   * registered none (or the session does not exist). A session's key never
   * changes, so it is read from the database once per instance; whether the
   * session is still valid is not this method's question (the access token
   * guard asks the revocation store).
   */
  async devicePublicKey(sessionId: string): Promise<KeyObject | null> {
    const cached = this.deviceKeys.get(sessionId);
    if (cached) return cached.key;
    const jwk = (await this.repository.findById(sessionId))?.devicePublicKey ?? null;
    const key = jwk ? createPublicKey({ key: jwk as never, format: 'jwk' }) : null;
    this.deviceKeys.set(sessionId, { key });
    return key;
  }

  /**
   * Whether a sign-in comes from a known device: one with an active session of
   * this user that registered a key, proving it by signing `message`.
   */
  async isKnownDevice(userId: string, deviceId: string, message: string, signature: string): Promise<boolean> {
    const jwk = await this.repository.activeDeviceKey(userId, deviceId, this.clock.date());
    return jwk !== null && isDeviceSignature(createPublicKey({ key: jwk as never, format: 'jwk' }), message, signature);
  }

  /**
   * Whether the session proved a credential within `REAUTH_MAX_AGE_SECONDS`
   * (see `Session.authenticatedAt`): what adding a way to sign in and
   * destructive admin actions require. A revoked session is never fresh.
   */
  async hasFreshCredential(sessionId: string): Promise<boolean> {
    const session = await this.repository.findById(sessionId);
    return (
      session !== null &&
      session.revokedAt === null &&
      session.authenticatedAt !== null &&
      this.clock.now() - session.authenticatedAt.getTime() <= this.config.reauthMaxAgeSeconds * 1_000
    );
  }

  async markAuthenticated(sessionId: string): Promise<Date> {
    const now = this.clock.date();
    await this.repository.setAuthenticatedAt(sessionId, now);
    return now;
  }

  private slidingMs(kind: SessionKind, createdVia: string): number {
    const { mobile, web, qrWeb } = this.config.refreshTtlDays;
    return (kind === 'mobile' ? mobile : createdVia === 'qr' ? qrWeb : web) * DAY_MS;
  }
}

function minDate(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}
