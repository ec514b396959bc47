import type { ErrorEnvelope as WireErrorEnvelope } from '@scangate/protocol';

/** Per request: an admin API that does not answer in this time is reported, not waited for. */
const REQUEST_TIMEOUT_MS = 30_000;

/** The protocol's error envelope (PROTOCOL.md § Errors); without a request id when something in between answered. */
export type ErrorEnvelope = Omit<WireErrorEnvelope, 'requestId'> & { requestId?: string };

/** The API answered with an error: exit code 1, the envelope's code and message printed. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly envelope: ErrorEnvelope,
  ) {
    super(envelope.message);
    this.name = 'ApiError';
  }
}

/** The API could not be reached, or answered something that is not the protocol: exit code 1. */
export class TransportError extends Error {
  override name = 'TransportError';
}

export interface Credentials {
  /** An admin access token (`SCANGATE_TOKEN`, `--token`). */
  token?: string;
  /** Signs in with these when there is no token, and again when the token has expired. */
  login?: string;
  /** Also answers `auth.reauth_required` (POST /api/v1/auth/reauth) before a destructive action. */
  password?: string;
}

export type Query = Record<string, string | number | boolean | undefined>;

/**
 * The admin API over HTTP with an access token. With a login and password it
 * signs in by itself (a web session, whose refresh cookie it does not keep: it
 * signs in again when the access token expires), confirms the password when a
 * destructive action needs a recent sign-in, and signs out at the end.
 * Credentials never appear in what it throws.
 */
export class AdminApiClient {
  private token: string | undefined;
  /** Whether the current token came from our own sign-in (then it is ours to sign out). */
  private signedIn = false;

  constructor(
    private readonly baseUrl: string,
    private readonly credentials: Credentials,
    private readonly fetchFn: typeof fetch,
    private readonly signal?: AbortSignal,
  ) {
    this.token = credentials.token;
  }

  /** The strings that must never be printed (the current token, the password). */
  secrets(): string[] {
    return [this.token, this.credentials.token, this.credentials.password].filter(
      (s): s is string => typeof s === 'string' && s.length > 0,
    );
  }

  async request<T = unknown>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    options: { query?: Query; body?: unknown } = {},
  ): Promise<T> {
    const canSignIn = this.credentials.login !== undefined && this.credentials.password !== undefined;
    let signedInNow = false;
    if (!this.token && canSignIn) {
      await this.signIn();
      signedInNow = true;
    }
    for (let attempt = 0; ; attempt++) {
      const answer = await this.send(method, path, options, this.token);
      if (answer.ok) return answer.body as T;
      const code = answer.error.envelope.code;
      if (attempt === 0 && code === 'auth.reauth_required' && this.credentials.password !== undefined && this.token) {
        await this.send(
          'POST',
          '/api/v1/auth/reauth',
          { body: { password: this.credentials.password } },
          this.token,
        ).then(unwrap);
        continue;
      }
      if (code === 'auth.unauthenticated' && canSignIn && !signedInNow) {
        await this.signIn();
        signedInNow = true;
        continue;
      }
      throw answer.error;
    }
  }

  /** Signs out the session this client signed in (best effort: it expires anyway). */
  async close(): Promise<void> {
    if (!this.signedIn || !this.token) return;
    try {
      await this.send('POST', '/api/v1/auth/logout', {}, this.token, false);
    } catch {
      // Nothing to do: the session ends with its tokens.
    }
    this.signedIn = false;
  }

  private async signIn(): Promise<void> {
    await this.close();
    const body = await this.send('POST', '/api/v1/auth/login', {
      body: { login: this.credentials.login, password: this.credentials.password },
    }).then(unwrap);
    const token = (body as { accessToken?: unknown } | null)?.accessToken;
    if (typeof token !== 'string' || token.length === 0)
      throw new TransportError('the sign-in answer holds no access token');
    this.token = token;
    this.signedIn = true;
  }

  private async send(
    method: string,
    path: string,
    options: { query?: Query; body?: unknown },
    token?: string,
    abortable = true,
  ): Promise<{ ok: true; body: unknown } | { ok: false; error: ApiError }> {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {}))
      if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'scangate-admin-cli' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    let response: Response;
    try {
      response = await this.fetchFn(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        redirect: 'manual',
        signal: abortable && this.signal ? AbortSignal.any([timeout, this.signal]) : timeout,
      });
    } catch (error) {
      if (this.signal?.aborted && abortable) throw error;
      const e = error as Error & { cause?: { code?: string; message?: string } };
      const why =
        e.name === 'TimeoutError'
          ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
          : (e.cause?.code ?? e.cause?.message ?? e.message);
      throw new TransportError(`cannot reach ${this.baseUrl}: ${why}`);
    }
    const text = await response.text().catch(() => '');
    let body: unknown = null;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
    }
    if (response.ok) {
      if (body === undefined)
        throw new TransportError(
          `${method} ${url.pathname} answered HTTP ${response.status} with a body that is not JSON`,
        );
      return { ok: true, body };
    }
    if (isEnvelope(body)) return { ok: false, error: new ApiError(response.status, body) };
    return {
      ok: false,
      error: new ApiError(response.status, {
        code: `http_${response.status}`,
        message: `${method} ${url.pathname} answered HTTP ${response.status} without the error envelope (is ${this.baseUrl} ScanGate?)`,
      }),
    };
  }
}

function unwrap(answer: { ok: true; body: unknown } | { ok: false; error: ApiError }): unknown {
  if (!answer.ok) throw answer.error;
  return answer.body;
}

function isEnvelope(body: unknown): body is ErrorEnvelope {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as ErrorEnvelope).code === 'string' &&
    typeof (body as ErrorEnvelope).message === 'string'
  );
}
