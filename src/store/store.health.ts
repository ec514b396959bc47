import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '../common/index.js';
import { STORE_CONFIG, type StoreConfig } from '../config/index.js';
import { STORE, type Store } from './store.js';

export interface StoreHealth {
  up: boolean;
  mode: StoreConfig['mode'];
  /** Why the store is down: an error code, never a message that could name hosts or values. */
  error?: string;
}

/**
 * Readiness of the store, for the health module: a `ping()` round trip (on
 * Redis, both the command and the subscriber connection). It never throws and
 * never waits longer than the store's own timeout.
 */
@Injectable()
export class StoreHealthIndicator {
  constructor(
    @Inject(STORE) private readonly store: Store,
    @Inject(STORE_CONFIG) private readonly config: StoreConfig,
  ) {}

  async check(): Promise<StoreHealth> {
    try {
      await this.store.ping();
      return { up: true, mode: this.config.mode };
    } catch (error) {
      return { up: false, mode: this.config.mode, error: error instanceof AppError ? error.code : 'internal' };
    }
  }
}
