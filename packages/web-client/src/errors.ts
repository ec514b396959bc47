/** An error answered by ScanGate (PROTOCOL.md § Errors), or a network failure (`network`). */
export class ScanGateError extends Error {
  override readonly name = 'ScanGateError';

  constructor(
    /** The protocol's stable code (`qr.expired`, `rate_limited`, …), or `network` when no answer came. */
    readonly code: string,
    message: string,
    /** HTTP status; 0 when the server could not be reached. */
    readonly status: number,
    readonly requestId?: string,
    /** For `rate_limited`: seconds to wait, from `Retry-After`. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }

  /** A failure worth retrying later: no answer, the store down, or rate limited. */
  get transient(): boolean {
    return (
      this.code === 'network' || this.code === 'store.unavailable' || this.code === 'rate_limited' || this.status >= 500
    );
  }
}
