import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Clock } from '../../common/index.js';
import { AUTH_CONFIG, type AuthConfig } from '../../config/index.js';
import { LocalCache, STORE, type Store } from '../../store/index.js';

import { isSealed, openPrivateKey, sealPrivateKey } from './signing-key.cipher.js';
import { SIGNING_KEYS_SECRET } from './signing-keys.secret.js';
import type { SigningKey } from './signing-key.entity.js';
import { SigningKeysRepository } from './signing-keys.repository.js';

/** Store channel telling every instance that the keys changed. */
const KEYS_CHANGED_CHANNEL = 'auth:keys-changed';
const PUBLIC_KEYS_CACHE_KEY = 'auth:signing-keys:public';
const PUBLIC_KEYS_CACHE_TTL_MS = 60_000;
/** An unknown `kid` reloads the key set at most this often (forged tokens must not hammer the database). */
const UNKNOWN_KID_RELOAD_MS = 5_000;
/** Clock skew tolerated when deciding that a retired key's tokens have all expired. */
const SKEW_MS = 60_000;

export interface PublicSigningKey {
  kid: string;
  jwk: JWK;
}

/** A cached key: until when its tokens can be valid (null while it still signs). */
interface CachedKey extends PublicSigningKey {
  verifiableUntil: number | null;
}

/**
 * The access-token signing keys (ES256), shared by every instance through the
 * database. The active private key is held in memory; public keys are read
 * through the process-local cache (`LocalCache.wrap`), dropped on every instance
 * when the keys change (store event) or after a minute. `rotate()` retires the active key and makes
 * a new one; retired keys stay verifiable (and in the JWKS) until the longest
 * access token they could have signed has expired.
 */
@Injectable()
export class SigningKeysService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('SigningKeys');
  private active?: { kid: string; key: KeyObject };
  private readonly publicKeyObjects = new Map<string, KeyObject>();
  private lastForcedReload = 0;
  private unsubscribe?: () => Promise<void>;
  private refreshTimer?: NodeJS.Timeout;

  constructor(
    private readonly repository: SigningKeysRepository,
    private readonly cache: LocalCache,
    @Inject(STORE) private readonly store: Store,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(SIGNING_KEYS_SECRET) private readonly secret: Buffer,
    private readonly clock: Clock,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.repository.withLock(async (active) => (active ? null : this.generate()), this.clock.date());
    // Keys an older version stored in the clear (development without a secret) are sealed now.
    const sealed = await this.repository.sealClear((pem) => sealPrivateKey(pem, this.secret), isSealed);
    if (sealed > 0) this.logger.log(`Sealed ${sealed} signing key(s) stored in the clear`);
    await this.loadActive();
    try {
      this.unsubscribe = await this.store.subscribe(KEYS_CHANGED_CHANNEL, () => void this.reload());
    } catch {
      this.logger.warn(
        'Could not subscribe to key changes (store unavailable); rotations are picked up within a minute',
      );
    }
    // Also poll, in case an event was missed during a store outage.
    this.refreshTimer = setInterval(() => void this.loadActive().catch(() => undefined), PUBLIC_KEYS_CACHE_TTL_MS);
    this.refreshTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.refreshTimer);
    await this.unsubscribe?.().catch(() => undefined);
  }

  /** The key that signs new tokens. */
  signingKey(): { kid: string; key: KeyObject } {
    if (!this.active) throw new Error('No signing key loaded');
    return this.active;
  }

  /** The public key for `kid`, or null for a key we do not (or no longer) know. */
  async publicKey(kid: string): Promise<KeyObject | null> {
    let keys = await this.publicKeys();
    let found = keys.find((k) => k.kid === kid);
    const now = this.clock.now();
    if (!found && now - this.lastForcedReload > UNKNOWN_KID_RELOAD_MS) {
      // Perhaps a key another instance just made: look once more, at most every few seconds.
      this.lastForcedReload = now;
      this.cache.del(PUBLIC_KEYS_CACHE_KEY);
      keys = await this.publicKeys();
      found = keys.find((k) => k.kid === kid);
    }
    if (!found) return null;
    let keyObject = this.publicKeyObjects.get(kid);
    if (!keyObject) {
      keyObject = createPublicKey({ key: found.jwk as never, format: 'jwk' });
      this.publicKeyObjects.set(kid, keyObject);
    }
    return keyObject;
  }

  /**
   * Every key whose tokens may still be valid, for the JWKS and verification:
   * read through the process-local cache (every request verifies with it), and
   * filtered by the clock at each call, so a retired key leaves exactly when
   * its last token expires, whatever the cache's age.
   */
  async publicKeys(): Promise<PublicSigningKey[]> {
    const lifetimeMs = this.config.accessTokenTtlSeconds * 1000 + SKEW_MS;
    const keys = await this.cache.wrap<CachedKey[]>(
      PUBLIC_KEYS_CACHE_KEY,
      async () => {
        const keys = await this.repository.findVerifiable(new Date(this.clock.now() - lifetimeMs));
        return keys.map((k) => ({
          kid: k.kid,
          jwk: k.publicJwk as JWK,
          verifiableUntil: k.retiredAt ? k.retiredAt.getTime() + lifetimeMs : null,
        }));
      },
      PUBLIC_KEYS_CACHE_TTL_MS,
    );
    const now = this.clock.now();
    return keys
      .filter((k) => k.verifiableUntil === null || k.verifiableUntil > now)
      .map(({ kid, jwk }) => ({ kid, jwk }));
  }

  /** Retires the active key and makes a new one that signs from now on, on every instance. */
  async rotate(): Promise<string> {
    const next = await this.repository.withLock(async () => this.generate(), this.clock.date());
    await this.reload();
    try {
      await this.store.publish(KEYS_CHANGED_CHANNEL, next!.kid);
    } catch {
      this.logger.warn(
        'Could not announce the new key (store unavailable); other instances pick it up within a minute',
      );
    }
    this.logger.log(`Signing key rotated: ${next!.kid} signs from now on`);
    return next!.kid;
  }

  private async reload(): Promise<void> {
    this.cache.del(PUBLIC_KEYS_CACHE_KEY);
    await this.loadActive();
  }

  private async loadActive(): Promise<void> {
    const key = await this.repository.findActive();
    if (!key) throw new Error('No active signing key in the database');
    if (this.active?.kid === key.kid) return;
    this.active = { kid: key.kid, key: createPrivateKey(openPrivateKey(key.privateKey, this.secret)) };
  }

  private async generate(): Promise<SigningKey> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' }) as JWK;
    const kid = await calculateJwkThumbprint(jwk);
    return {
      kid,
      algorithm: 'ES256',
      publicJwk: { kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y!, kid, alg: 'ES256', use: 'sig' },
      privateKey: sealPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), this.secret),
      createdAt: this.clock.date(),
      retiredAt: null,
    };
  }
}
