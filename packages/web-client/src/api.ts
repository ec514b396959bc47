import { requestJson } from './http.js';

export type QrStatus = 'pending' | 'scanned' | 'confirmed' | 'consumed' | 'expired' | 'cancelled';

export interface QrStatusBody {
  id: string;
  status: QrStatus;
  version: number;
  expiresAt: string;
}

export interface CreatedQrSession extends QrStatusBody {
  pollToken: string;
  qrContent: string;
  qrImage: { svg: string; png: string };
  pollIntervalMs: number;
  matchCode?: string;
}

export interface SignedInUser {
  id: string;
  displayName: string;
  avatarUrl?: string | null;
}

export interface Exchanged {
  user: SignedInUser;
  accessToken: string;
  expiresIn: number;
}

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
