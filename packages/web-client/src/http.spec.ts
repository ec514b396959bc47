import { describe, expect, it } from '@jest/globals';
import { ScanGateError } from './errors.js';
import { requestJson } from './http.js';

/** A `fetch` that answers once with `body` (a string: sent as is) and `status`. */
const answering = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  (async () =>
    new Response(typeof body === 'string' ? body : JSON.stringify(body), {
      status,
      headers: { 'Content-Type': typeof body === 'string' ? 'text/html' : 'application/json', ...headers },
    })) as typeof fetch;

async function failure(fetchFn: typeof fetch): Promise<ScanGateError> {
  return requestJson(fetchFn, 'http://scangate.test/api', { method: 'GET' }).then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as ScanGateError,
  );
}

describe('requestJson', () => {
  it('returns the parsed body of a success, and undefined for 204', async () => {
    await expect(
      requestJson(answering(200, { ok: 1 }), 'http://scangate.test/api', { method: 'GET' }),
    ).resolves.toEqual({ ok: 1 });
    await expect(
      requestJson((async () => new Response(null, { status: 204 })) as typeof fetch, 'http://scangate.test/api', {
        method: 'POST',
      }),
    ).resolves.toBeUndefined();
  });

  it('turns the error envelope into a ScanGateError with its code, status, request id and Retry-After', async () => {
    const error = await failure(
      answering(429, { code: 'rate_limited', message: 'Slow down.', requestId: 'r-1' }, { 'Retry-After': '7' }),
    );
    expect(error).toBeInstanceOf(ScanGateError);
    expect(error).toMatchObject({
      name: 'ScanGateError',
      code: 'rate_limited',
      status: 429,
      requestId: 'r-1',
      retryAfterSeconds: 7,
      message: 'Slow down.',
    });
    expect(error.transient).toBe(true);
  });

  it('names an answer without the envelope (a proxy page) by its status; only no answer at all is `network`', async () => {
    expect(await failure(answering(404, '<h1>Not Found</h1>'))).toMatchObject({ code: 'not_found', transient: false });
    expect(await failure(answering(413, '<h1>Too large</h1>'))).toMatchObject({
      code: 'payload_too_large',
      transient: false,
    });
    expect(await failure(answering(502, '<h1>Bad gateway</h1>'))).toMatchObject({ code: 'internal', transient: true });
    expect(await failure(answering(503, '<h1>Unavailable</h1>'))).toMatchObject({
      code: 'store.unavailable',
      transient: true,
    });
    const unreachable = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    expect(await failure(unreachable)).toMatchObject({ code: 'network', status: 0, transient: true });
  });
});
