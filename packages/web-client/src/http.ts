import { ScanGateError } from './errors.js';

export interface JsonRequest {
  method: string;
  body?: object;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  credentials?: RequestCredentials;
}

/** One JSON call to ScanGate: the parsed body, or a `ScanGateError` with the protocol's code. */
export async function requestJson<T>(fetchFn: typeof fetch, url: string, request: JsonRequest): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...request.headers };
  if (request.body) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetchFn(url, {
      method: request.method,
      headers,
      body: request.body ? JSON.stringify(request.body) : undefined,
      credentials: request.credentials ?? 'include',
      cache: 'no-store',
      signal: request.signal,
    });
  } catch (error) {
    if (request.signal?.aborted) throw error;
    throw new ScanGateError('network', 'The server could not be reached.', 0);
  }
  if (response.status === 204) return undefined as T;
  const body = (await response.json().catch(() => null)) as Record<string, unknown> | null;
  if (response.ok && body) return body as T;
  const retryAfter = Number(response.headers.get('Retry-After'));
  throw new ScanGateError(
    typeof body?.code === 'string' ? body.code : codeForStatus(response.status),
    typeof body?.message === 'string' ? body.message : `Unexpected answer (HTTP ${response.status}).`,
    response.status,
    typeof body?.requestId === 'string' ? body.requestId : (response.headers.get('X-Request-Id') ?? undefined),
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  );
}

/** A code for an answer without the envelope (a proxy's HTML page): by its status. `network` is only for no answer. */
function codeForStatus(status: number): string {
  if (status === 404) return 'not_found';
  if (status === 413) return 'payload_too_large';
  if (status === 429) return 'rate_limited';
  if (status === 503) return 'store.unavailable';
  return 'internal';
}
