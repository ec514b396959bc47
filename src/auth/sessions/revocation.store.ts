import { Inject, Injectable } from '@nestjs/common';
import { AUTH_CONFIG, type AuthConfig } from '../../config/index.js';
import { STORE, type Store } from '../../store/index.js';
import { AccountEvents } from '../account-events.js';

/** Longer than any access token can live, with clock skew. */
const SKEW_MS = 60_000;

/**
 * Revoked sessions, in the shared store, for as long as an access token of
 * theirs could still be valid: every instance refuses such a token on the next
 * request with one store lookup, without touching the database.
 */
@Injectable()
export class RevocationStore {
  constructor(
    @Inject(STORE) private readonly store: Store,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly events: AccountEvents,
  ) {}

  /** Refuses the sessions' access tokens from now on, and tells every instance (their sockets close). */
  async markRevoked(sessionIds: string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    const ttl = this.config.accessTokenTtlSeconds * 1000 + SKEW_MS;
    await Promise.all(sessionIds.map((id) => this.store.set(key(id), '1', ttl)));
    await this.events.publish({ type: 'session.revoked', sessionIds });
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    return (await this.store.get(key(sessionId))) !== null;
  }
}

const key = (sessionId: string) => `auth:revoked:${sessionId}`;
