import type { Logger } from '@nestjs/common';

/**
 * Logs the state changes of one Redis connection: one warning when it goes
 * down, one line when it is back, nothing for each failed reconnect attempt in
 * between (they come every second during an outage). Reasons are error codes
 * or messages with any password from the URL masked; values and URLs are never
 * logged.
 */
export class ConnectionMonitor {
  private down = false;
  private stopped = false;

  constructor(
    private readonly logger: Logger,
    /** What the connection is for, e.g. "Redis store connection". */
    private readonly name: string,
    /** What callers see meanwhile, e.g. "calls fail with store.unavailable meanwhile". */
    private readonly consequence: string,
    /** Strings that must never appear in a log line (the URL's password). */
    private readonly secrets: string[] = [],
  ) {}

  /** The connection failed or closed; logged once per outage. */
  failed(reason: unknown): void {
    if (this.stopped || this.down) return;
    this.down = true;
    this.logger.warn(
      `${this.name} unavailable (${this.describe(reason)}); reconnecting in the background, ${this.consequence}`,
    );
  }

  /** The connection is ready (again). */
  ready(): void {
    if (this.stopped || !this.down) return;
    this.down = false;
    this.logger.log(`${this.name} ready again`);
  }

  /** Shutting down: closing the connection is not an outage. */
  stop(): void {
    this.stopped = true;
  }

  private describe(reason: unknown): string {
    // Duck-typed: socket errors may come from another realm (instanceof Error fails under jest).
    const { code, message } = (typeof reason === 'object' && reason !== null ? reason : {}) as {
      code?: unknown;
      message?: unknown;
    };
    let text = typeof code === 'string' ? code : typeof message === 'string' ? message : String(reason);
    for (const secret of this.secrets) {
      if (secret) text = text.split(secret).join('***');
    }
    return text;
  }
}

/** The password of a Redis URL, raw and decoded, for masking; none when the URL has none. */
export function urlSecrets(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const { password } = new URL(url);
    return password ? [...new Set([password, decodeURIComponent(password)])] : [];
  } catch {
    return [];
  }
}
