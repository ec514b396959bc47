import type { Clock, CryptoService } from '../common/index.js';

/** A QR page nobody decided on is dropped after this long (the real pages show "expired"). */
export const PENDING_TTL_MS = 5 * 60_000;

/** What the phone decided: a code to send back, or a refusal. */
export type Decision = { code: string } | 'refused';

export type Pending<E> = E & {
  redirectUri: string;
  state: string | null;
  createdAt: number;
  decision: Decision | null;
};

/**
 * The authorizations a sandbox's QR pages wait on: opened by the page (a uuid
 * the QR points to), decided once by the phone, and handed back once, when the
 * page turns the decision into its redirect. `E` is what a provider keeps on
 * top (Alipay the scope, …).
 */
export class PendingAuthorizations<E extends object = Record<never, never>> {
  private readonly entries = new Map<string, Pending<E>>();

  constructor(
    private readonly crypto: CryptoService,
    private readonly clock: Clock,
  ) {}

  open(entry: E & { redirectUri: string; state: string | null }): string {
    this.sweep();
    const uuid = this.crypto.randomToken(12);
    this.entries.set(uuid, { ...entry, createdAt: this.clock.now(), decision: null });
    return uuid;
  }

  /** The authorization, or null when unknown or expired. */
  get(uuid: string): Pending<E> | null {
    const entry = this.entries.get(uuid);
    return entry && this.clock.now() - entry.createdAt <= PENDING_TTL_MS ? entry : null;
  }

  /** Whether the phone can still decide on it. */
  waiting(uuid: string): boolean {
    return this.get(uuid)?.decision === null;
  }

  /** Records the phone's decision, once; false when there is nothing to decide. */
  decide(uuid: string, decision: Decision): boolean {
    const entry = this.get(uuid);
    if (!entry || entry.decision !== null) return false;
    entry.decision = decision;
    return true;
  }

  /** Done with it (its redirect was handed out). */
  close(uuid: string): void {
    this.entries.delete(uuid);
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [uuid, entry] of this.entries) if (now - entry.createdAt > PENDING_TTL_MS) this.entries.delete(uuid);
  }
}

/** A request parameter as a non-empty string, else null (sandboxes read untyped queries and bodies). */
export function str(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

/** The host of a redirect URI, to compare with the app's registered callback domain; null when not a URL. */
export function hostOf(url: string): string | null {
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}
