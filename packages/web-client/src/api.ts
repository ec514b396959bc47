import { requestJson } from './http.js';

import type { CreatedQrSession, Exchanged, QrStatus, QrStatusView, SignedInUser } from '@scangate/protocol';

export type { CreatedQrSession, Exchanged, QrStatus, SignedInUser };
/** The status route's body (the protocol's QrStatusView). */
export type QrStatusBody = QrStatusView;

/** The browser-side QR routes of PROTOCOL.md, over `fetch`, errors as `ScanGateError`. */
export class QrApi {
  constructor(
    private readonly baseUrl: string,
    private readonly fetchFn: typeof fetch,
  ) {}

  create(returnTo?: string): Promise<CreatedQrSession> {
    return this.call('POST', '/api/v1/qr-sessions', { body: returnTo ? { returnTo } : {} });
  }

  status(
    id: string,
    pollToken: string,
    wait?: { seconds: number; afterVersion: number; signal?: AbortSignal },
  ): Promise<QrStatusBody> {
    const query = wait ? `?waitSeconds=${wait.seconds}&afterVersion=${wait.afterVersion}` : '';
    return this.call('GET', `/api/v1/qr-sessions/${encodeURIComponent(id)}${query}`, {
      pollToken,
      signal: wait?.signal,
    });
  }

  exchange(id: string, pollToken: string): Promise<Exchanged> {
    return this.call('POST', `/api/v1/qr-sessions/${encodeURIComponent(id)}/exchange`, { pollToken, body: {} });
  }

  url(path: string): string {
    return /^https?:\/\//.test(path) ? path : `${this.baseUrl}${path}`;
  }

  private call<T>(
    method: string,
    path: string,
    options: { body?: object; pollToken?: string; signal?: AbortSignal },
  ): Promise<T> {
    return requestJson<T>(this.fetchFn, this.url(path), {
      method,
      body: options.body,
      headers: options.pollToken ? { 'X-Poll-Token': options.pollToken } : {},
      signal: options.signal,
    });
  }
}
