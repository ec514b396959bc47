import type { Response } from 'supertest';
import { QR_TRANSITIONS, type QrSessionRecord, type QrStatus } from '../../src/qr-login/qr-session.js';
import type { RecordingSocket } from './sockets.js';

/**
 * Helpers for fault tests (a dependency killed or restarted under a running
 * app): every answer is recorded, classified, and counted for the report.
 */

/** One HTTP answer seen during a fault test. `status` 0: no answer at all (connection error or client timeout). */
export interface Outcome {
  label: string;
  status: number;
  code: string | undefined;
  /** The error envelope of PROTOCOL.md: code, message, and the request id of the X-Request-Id header. */
  envelope: boolean;
  /** `performance.now()` when sent and when answered. */
  sentAt: number;
  answeredAt: number;
  error?: string;
}

/** Whether `res` carries the error envelope (code, message, requestId = X-Request-Id). */
export function hasEnvelope(res: Pick<Response, 'body' | 'headers'>): boolean {
  const body = res.body as { code?: unknown; message?: unknown; requestId?: unknown } | undefined;
  return (
    typeof body?.code === 'string' &&
    typeof body.message === 'string' &&
    typeof body.requestId === 'string' &&
    body.requestId === res.headers['x-request-id']
  );
}

/** Sends (awaits) a supertest request and records how it ended; never throws. */
export async function send(
  label: string,
  call: () => PromiseLike<Response>,
  into?: Outcome[],
): Promise<Outcome & { res?: Response }> {
  const sentAt = performance.now();
  let outcome: Outcome & { res?: Response };
  try {
    const res = await call();
    outcome = {
      label,
      status: res.status,
      code: (res.body as { code?: string } | undefined)?.code,
      envelope: res.status >= 400 ? hasEnvelope(res) : true,
      sentAt,
      answeredAt: performance.now(),
      res,
    };
  } catch (error) {
    outcome = {
      label,
      status: 0,
      code: undefined,
      envelope: false,
      sentAt,
      answeredAt: performance.now(),
      error: (error as Error).message,
    };
  }
  into?.push(outcome);
  return outcome;
}

/** The 503 `store.unavailable` answer, with its envelope, that PROTOCOL.md promises while Redis or Postgres is unreachable. */
export const isStoreUnavailable = (o: Pick<Outcome, 'status' | 'code' | 'envelope'>) =>
  o.status === 503 && o.code === 'store.unavailable' && o.envelope;

/** What an outcome looks like in an assertion message (no bodies: they may hold tokens). */
export const shape = (o: Outcome) => ({
  label: o.label,
  status: o.status,
  code: o.code,
  envelope: o.envelope,
  ...(o.error ? { error: o.error } : {}),
});

/** `{ "503 store.unavailable": 12, "200": 40, … }` */
export function tally(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) {
    const key =
      o.status === 0
        ? `no answer (${o.error ?? 'error'})`
        : o.code && o.status >= 400
          ? `${o.status} ${o.code}`
          : String(o.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/**
 * Every (status, version, scanned) a QR session can be in, walking the one
 * table of transitions (QR_TRANSITIONS) from `pending`, version 1, each step +1.
 * `scanned` is whether the walk went through `scanned` (the record then names
 * its scanner).
 */
export function legalQrStates(): Set<string> {
  const legal = new Set<string>();
  const queue: Array<{ status: QrStatus; version: number; scanned: boolean }> = [
    { status: 'pending', version: 1, scanned: false },
  ];
  while (queue.length > 0) {
    const state = queue.shift()!;
    const id = `${state.status}:${state.version}:${state.scanned}`;
    if (legal.has(id)) continue;
    legal.add(id);
    for (const next of QR_TRANSITIONS[state.status])
      queue.push({ status: next, version: state.version + 1, scanned: state.scanned || next === 'scanned' });
  }
  return legal;
}

/** Why a stored QR record is not in a legal state (undefined: it is). */
export function illegalQrRecord(record: QrSessionRecord, legal = legalQrStates()): string | undefined {
  if (!(record.status in QR_TRANSITIONS)) return `unknown status ${String(record.status)}`;
  if (!Number.isInteger(record.version)) return `version ${String(record.version)} is not an integer`;
  if (!legal.has(`${record.status}:${record.version}:${record.scanner != null}`)) {
    return `${record.status} at version ${record.version} ${record.scanner ? 'with' : 'without'} a scanner is not reachable through the state table`;
  }
  return undefined;
}

/**
 * Keeps a `/qr` socket connecting as a browser page does (the project's web
 * client, packages/web-client): Socket.IO reconnects by itself after a lost
 * transport, but a handshake the server refuses (`connect_error`, e.g.
 * `store.unavailable` while Redis is down) ends its attempts; this tries again
 * every `everyMs` until `stop()`. `pause()` holds the retries (a browser that
 * is offline a little longer); `connects` counts connections, and
 * `receivedAt[i]` is the length of `received` when connection i was made.
 */
export function keepReconnecting(s: RecordingSocket, everyMs = 200) {
  const refusals: Array<{ message: string; data?: { code?: string; message?: string; requestId?: string } }> = [];
  const receivedAt: number[] = [];
  let paused = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const retry = () => {
    if (stopped || s.socket.connected || s.socket.active) return;
    if (paused) {
      timer = setTimeout(retry, everyMs);
      return;
    }
    s.socket.connect();
  };
  s.socket.on('connect', () => receivedAt.push(s.received.length));
  s.socket.on('connect_error', (error: Error & { data?: { code?: string; message?: string; requestId?: string } }) => {
    refusals.push({ message: error.message, data: error.data });
    clearTimeout(timer);
    timer = setTimeout(retry, everyMs);
  });
  return {
    refusals,
    receivedAt,
    pause: () => void (paused = true),
    resume: () => {
      paused = false;
      clearTimeout(timer);
      retry();
    },
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** Polls `check` every `everyMs` until it returns true; false after `timeoutMs`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 25,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const ms = (value: number) => Math.round(value);

/** The steps of a QR login, in order. */
export type Step = 'create' | 'scan' | 'confirm' | 'exchange';

/** One login attempt of a worker under a fault: how far it got before a request failed. */
export interface Flow {
  worker: number;
  qr?: { id: string; pollToken: string; matchCode?: string };
  lastOk: Step | 'none';
  failed?: Outcome;
}
