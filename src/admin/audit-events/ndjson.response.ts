import type { Response } from 'express';

export const NDJSON = 'application/x-ndjson';

/**
 * Streams `batches` as NDJSON (one JSON object per line) with back-pressure:
 * the next batch is asked for only once the previous one is written (or
 * buffered by the socket), so memory holds one batch whatever the total.
 *
 * The first batch is read before any header goes out: a failure there is
 * thrown, and answered with the usual error envelope. A client that goes away
 * stops the iteration (no further query runs). A failure after the status line
 * cannot become an envelope any more: it is reported to `onError` and the
 * connection is cut without the final chunk, so the client sees an incomplete
 * body rather than a short export that looks whole.
 */
export async function sendNdjson(
  res: Response,
  batches: AsyncIterable<unknown[]>,
  onError: (error: unknown) => void,
): Promise<void> {
  const iterator = batches[Symbol.asyncIterator]();
  let next = await iterator.next();
  let gone = false;
  const markGone = () => {
    gone = true;
  };
  res.once('close', markGone);
  res.status(200).setHeader('Content-Type', NDJSON);
  try {
    while (!next.done && !gone) {
      const chunk = next.value.map((item) => `${JSON.stringify(item)}\n`).join('');
      if (!res.write(chunk)) await drained(res);
      if (gone || res.destroyed) break;
      next = await iterator.next();
    }
  } catch (error) {
    onError(error);
    res.destroy();
    return;
  } finally {
    res.off('close', markGone);
    await iterator.return?.(undefined);
  }
  if (!gone && !res.destroyed) res.end();
}

/** Resolves when the socket takes more, or when the connection closes. */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve();
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
