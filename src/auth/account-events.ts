import { Inject, Injectable, Logger } from '@nestjs/common';
import type { RequesterContext } from '../requester/index.js';
import { STORE, type Store } from '../store/index.js';

/** Account changes every instance must hear of (its phones' sockets are told). */
const ACCOUNT_EVENTS_CHANNEL = 'account:events';

/** A new web session of a user: what the user's phones are shown ("not me? sign it out"). */
export interface NewLogin extends Omit<RequesterContext, 'createdAt'> {
  /** The new web session's id (`DELETE /api/v1/me/sessions/{id}` signs it out). */
  sessionId: string;
  /** `password`, `qr`, `oauth:<provider>`. */
  createdVia: string;
  createdAt: string;
}

/** A way to sign in added to a user: what the user's phones are shown ("not me? unlink it"). */
export interface NewIdentityLink extends Omit<RequesterContext, 'createdAt'> {
  /** `DELETE /api/v1/me/identities/{identityId}` unlinks it. */
  identityId: string;
  provider: string;
  linkedAt: string;
}

export type AccountEvent =
  /** These sessions were revoked (sign-out, replacement, reuse, password change, disabled user, administrator). */
  | { type: 'session.revoked'; sessionIds: string[] }
  | { type: 'login.new'; userId: string; login: NewLogin }
  | { type: 'identity.linked'; userId: string; link: NewIdentityLink };

/**
 * Publishes account events on the shared store, for every instance. Telling
 * sockets is a courtesy on top of what the database and the revocation store
 * already enforce: a store outage is logged, never thrown at the caller.
 */
@Injectable()
export class AccountEvents {
  private readonly logger = new Logger('AccountEvents');

  constructor(@Inject(STORE) private readonly store: Store) {}

  async publish(event: AccountEvent): Promise<void> {
    try {
      await this.store.publish(ACCOUNT_EVENTS_CHANNEL, JSON.stringify(event));
    } catch (error) {
      this.logger.warn(`Account event ${event.type} not published: ${(error as Error).message}`);
    }
  }

  /** Every account event published by any instance, until the returned function is called. */
  subscribe(onEvent: (event: AccountEvent) => void): Promise<() => Promise<void>> {
    return this.store.subscribe(ACCOUNT_EVENTS_CHANNEL, (message) => {
      let event: AccountEvent;
      try {
        event = JSON.parse(message) as AccountEvent;
      } catch {
        return;
      }
      onEvent(event);
    });
  }
}
