import type { KeyObject } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { createUser } from './accounts.js';
import type { TestApp } from './create-test-app.js';
import { confirmSignature, scanSignature, signInPhone } from './qr.js';
import { decodeJwt } from './tokens.js';

/**
 * Many complete QR logins at once over two instances of the app on one
 * Postgres and one Redis, each step sent to either instance at random, then
 * the outcome checked from the database: one web session per login, of the
 * user whose phone approved it, and each QR transition audited exactly once.
 *
 * Shared by the CI-sized e2e suite (test/e2e/concurrent-logins.e2e-spec.ts)
 * and the full-size bench (test/bench/concurrent-logins.bench.ts).
 *
 * - The plan (which phone approves each login, which instance takes each
 *   step) comes from a seeded PRNG; the report carries the seed, and
 *   CONCURRENT_LOGINS_SEED replays it.
 * - All logins are in flight at once (or `concurrency` of them); their
 *   requests share a bounded keep-alive pool per instance, like a front
 *   proxy's upstream connections.
 * - A step that fails transiently (no answer, 5xx, 429) is tried again, as
 *   the web client does: every failed attempt is still counted in `errors`
 *   (and 5xx in `serverErrors`), while `lost` counts the logins a real client
 *   could not finish at all.
 * - Both instances must share PUBLIC_URL (the tokens' issuer), as in
 *   production behind one front; with the default (http://localhost:<PORT>)
 *   instances on different ports refuse each other's phone tokens.
 */

/** A signed-in phone: a mobile device session with a device key. */
export interface LoginPhone {
  userId: string;
  sessionId: string;
  accessToken: string;
  privateKey: KeyObject;
}

/** What the driver reads the database through (a TypeORM `DataSource` will do). */
export interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

export type Step = 'create' | 'scan' | 'confirm' | 'exchange';
const STEPS: readonly Step[] = ['create', 'scan', 'confirm', 'exchange'];
/** The transitions a complete login goes through, each to be audited once. */
export const TRANSITIONS = ['qr.created', 'qr.scanned', 'qr.confirmed', 'qr.consumed'] as const;
/** Transitions none of these logins may go through. */
const NEVER = ['qr.cancelled', 'qr.expired'] as const;

/** Tries of one step when it fails transiently (no answer, 5xx, 429). */
const ATTEMPTS = 3;

const BROWSER_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36';

/** mulberry32: a small seeded PRNG, so that a failing run's plan can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed from `CONCURRENT_LOGINS_SEED` when set (to replay a run), else a new one. */
export function loginSeed(): number {
  const fromEnv = process.env.CONCURRENT_LOGINS_SEED;
  if (fromEnv !== undefined && fromEnv !== '') return Number(fromEnv) >>> 0;
  return Math.floor(Math.random() * 2 ** 32) >>> 0;
}

/**
 * `users` new users (made through `seed`'s UsersService: argon2, so keep it
 * modest), each signed in as `phonesPerUser` phones, each sign-in sent to one
 * of `urls` in turn.
 */
export async function preparePhones(
  seed: TestApp,
  urls: readonly string[],
  users: number,
  phonesPerUser: number,
): Promise<LoginPhone[]> {
  const phones: LoginPhone[] = [];
  let next = 0;
  // A few at a time: argon2 is CPU-bound, and the machine has few cores.
  await inBatches(users, 4, async () => {
    const { login } = await createUser(seed);
    for (let p = 0; p < phonesPerUser; p++) {
      const url = urls[next++ % urls.length]!;
      const phone = await signInPhone({ url } as TestApp, login);
      const { sub, sid } = decodeJwt(phone.accessToken).payload as { sub: string; sid: string };
      if (sid !== phone.sessionId) throw new Error(`phone sign-in: token sid ${sid} ≠ sessionId ${phone.sessionId}`);
      phones.push({
        userId: sub,
        sessionId: phone.sessionId,
        accessToken: phone.accessToken,
        privateKey: phone.privateKey,
      });
    }
  });
  return phones;
}

async function inBatches(total: number, concurrency: number, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(total, concurrency) }, async () => {
      while (next < total) await one(next++);
    }),
  );
}

export interface ConcurrentLoginsOptions {
  /** Base URLs of the two instances (same database, same store). */
  urls: readonly [string, string];
  phones: readonly LoginPhone[];
  /** How many complete logins. */
  logins: number;
  /** At most this many logins in flight (default: all of them at once). */
  concurrency?: number;
  /** Seed of the plan: which phone approves each login, which instance takes each step. */
  seed: number;
  /** The shared database, for the checks. */
  db: Queryable;
  /** How long to wait for the fire-and-forget audit writes to land (default 30 s). */
  auditSettleMs?: number;
  /** Per request (default 60 s): a hung request becomes an error, not a hung run. */
  requestTimeoutMs?: number;
  /**
   * Keep-alive connections to each instance (default 128), as a front proxy's
   * upstream pool: all logins are in flight at once, their requests share these.
   * Opening thousands of connections in one instant would only overflow the
   * listen backlog (511) and measure SYN retransmits (1 s, 3 s, 7 s, …).
   */
  connectionsPerInstance?: number;
}

/** One login's plan and what happened to it. */
interface Flow {
  index: number;
  phone: LoginPhone;
  /** Instance (0 = A, 1 = B) per step. */
  on: Record<Step, 0 | 1>;
  qrId?: string;
  /** Transient failures this flow's steps were retried after. */
  retriedAfter?: string[];
  /** The step that failed, with what came back. */
  failed?: { step: Step; key: string };
  /** From the exchange's access token. */
  sub?: string;
  sid?: string;
  exchangeUserId?: string;
}

export interface AuditMismatch {
  qr: string;
  login: number;
  type: string;
  count: number;
  expected: number;
}

export interface ConcurrentLoginsReport {
  seed: number;
  logins: number;
  phones: number;
  concurrency: number;
  /** Logins whose exchange answered 200. */
  completed: number;
  /** Logins that did not end in a web session in the database. */
  lost: number;
  /** Web sessions (created via QR) beyond one per login. */
  doubled: number;
  /** Logins whose web session is not of the approving phone's user, or whose audit names another approver. */
  misattributed: number;
  /** Failed requests by `<step> <status> <code>` (`<step> network <error>` when no answer came). */
  errors: Record<string, number>;
  /** Answers with a 5xx status. */
  serverErrors: number;
  /** QR id × transition counts that are not exactly the expected one (or zero, for cancel/expiry). */
  auditMismatches: AuditMismatch[];
  /** How long the audit rows took to settle after the last login finished. */
  auditSettledMs: number;
  /** First request sent → last login finished. */
  durationMs: number;
  /** Completed logins per second over `durationMs`. */
  loginsPerSecond: number;
  /** Requests re-sent once because their kept-alive connection had just been closed by the server before it read them. */
  staleRetries: number;
  /** Steps tried again after a transient failure (each failed attempt is also in `errors`). */
  retries: number;
  /** Requests each instance took. */
  requestsPerInstance: [number, number];
  /** Latency of each step (ms) over the successful requests. */
  latency: Record<Step, { p50: number; p99: number; max: number }>;
  /** A few of the problems in words, for a failure message. */
  samples: string[];
}

/**
 * Runs `logins` complete QR logins (create → scan → device-signed confirm →
 * exchange), `concurrency` at a time, each step on instance A or B as the
 * seeded plan says, then checks the outcome from the database (see the report).
 */
export async function runConcurrentLogins(options: ConcurrentLoginsOptions): Promise<ConcurrentLoginsReport> {
  const { urls, phones, logins, seed, db } = options;
  if (phones.length === 0) throw new Error('runConcurrentLogins: no phones');
  const concurrency = Math.max(1, Math.min(options.concurrency ?? logins, logins));
  const timeoutMs = options.requestTimeoutMs ?? 60_000;
  const random = seededRandom(seed);
  const flows: Flow[] = Array.from({ length: logins }, (_, index) => ({
    index,
    phone: phones[Math.floor(random() * phones.length)]!,
    on: { create: pick(random), scan: pick(random), confirm: pick(random), exchange: pick(random) },
  }));

  const errors: Record<string, number> = {};
  let serverErrors = 0;
  const requestsPerInstance: [number, number] = [0, 0];
  const latencies: Record<Step, number[]> = { create: [], scan: [], confirm: [], exchange: [] };

  const agent = new Agent({ keepAlive: true, maxSockets: options.connectionsPerInstance ?? 128, timeout: 2_000 });
  let staleRetries = 0;
  let retries = 0;

  /**
   * One step: the parsed body on a 2xx; else the flow is marked failed and
   * null comes back. Every failed attempt is counted in `errors`; a transient
   * one (no answer, 5xx, 429) is tried again, up to `ATTEMPTS` in all, as the
   * web client does for its exchange (and a phone app would): `lost` then
   * counts only logins a real client could not finish.
   */
  const call = async (
    flow: Flow,
    step: Step,
    path: string,
    init: { headers?: Record<string, string>; body?: unknown },
  ): Promise<Record<string, unknown> | null> => {
    const instance = flow.on[step];
    const url = `${urls[instance]}${path}`;
    const payload = JSON.stringify(init.body ?? {});
    let staleOfThisStep = 0;
    for (let attempt = 1; ; attempt++) {
      requestsPerInstance[instance]++;
      const started = performance.now();
      let answer: { status: number; text: string } | undefined;
      let failure = '';
      try {
        answer = await post(agent, url, init.headers ?? {}, payload, timeoutMs);
      } catch (error) {
        // A kept-alive connection the server had just closed: the request never reached it
        // (Node's documented retry case): sent again, not counted as an attempt.
        if ((error as { staleSocket?: boolean }).staleSocket && staleOfThisStep < 3) {
          staleRetries++;
          staleOfThisStep++;
          attempt--;
          continue;
        }
        failure = `${step} network ${(error as { code?: string }).code ?? (error as Error).name}`;
      }
      let body: Record<string, unknown> = {};
      if (answer) {
        try {
          body = answer.text ? (JSON.parse(answer.text) as Record<string, unknown>) : {};
        } catch {
          body = { code: 'non-json' };
        }
        if (answer.status >= 200 && answer.status < 300) {
          latencies[step].push(performance.now() - started);
          return body;
        }
        if (answer.status >= 500) serverErrors++;
      }
      if (answer) failure = `${step} ${answer.status} ${typeof body.code === 'string' ? body.code : '-'}`;
      errors[failure] = (errors[failure] ?? 0) + 1;
      const transient = !answer || answer.status >= 500 || answer.status === 429;
      if (!transient || attempt >= ATTEMPTS) {
        flow.failed = {
          step,
          key: attempt > 1 ? `${failure} (attempt ${attempt}; before: ${flow.retriedAfter?.join(', ')})` : failure,
        };
        return null;
      }
      retries++;
      (flow.retriedAfter ??= []).push(failure);
      await new Promise((r) => setTimeout(r, 250 * 2 ** (attempt - 1)));
    }
  };

  const runFlow = async (flow: Flow): Promise<void> => {
    const { phone } = flow;
    const created = await call(flow, 'create', '/api/v1/qr-sessions', { headers: { 'User-Agent': BROWSER_UA } });
    if (!created) return;
    const id = created.id as string;
    const pollToken = created.pollToken as string;
    const matchCode = created.matchCode as string | undefined;
    flow.qrId = id;
    const auth = { Authorization: `Bearer ${phone.accessToken}` };
    const scanned = await call(flow, 'scan', `/api/v1/qr-sessions/${id}/scan`, {
      headers: { ...auth, 'X-Device-Signature': scanSignature(phone, id) },
    });
    if (!scanned) return;
    const confirmed = await call(flow, 'confirm', `/api/v1/qr-sessions/${id}/confirm`, {
      headers: { ...auth, 'X-Device-Signature': confirmSignature(phone, id, matchCode) },
      body: matchCode === undefined ? {} : { matchCode },
    });
    if (!confirmed) return;
    const exchanged = await call(flow, 'exchange', `/api/v1/qr-sessions/${id}/exchange`, {
      headers: { 'X-Poll-Token': pollToken },
    });
    if (!exchanged) return;
    const { sub, sid } = decodeJwt(exchanged.accessToken as string).payload as { sub: string; sid: string };
    flow.sub = sub;
    flow.sid = sid;
    flow.exchangeUserId = (exchanged.user as { id?: string } | undefined)?.id;
  };

  const started = performance.now();
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < flows.length) await runFlow(flows[next++]!);
      }),
    );
  } finally {
    agent.destroy();
  }
  const durationMs = performance.now() - started;

  const samples: string[] = [];
  const note = (line: string) => {
    if (samples.length < 10) samples.push(line);
  };
  for (const flow of flows)
    if (flow.failed) note(`login ${flow.index} (qr ${flow.qrId?.slice(0, 8) ?? '-'}): ${flow.failed.key}`);

  // ── The database: web sessions made by QR ─────────────────────────────────
  const sessionRows = (await db.query(
    `SELECT id, user_id FROM sessions WHERE kind = 'web' AND created_via = 'qr'`,
  )) as Array<{ id: string; user_id: string }>;
  const sessionUser = new Map(sessionRows.map((r) => [r.id, r.user_id]));

  // ── The audit log: poll until the fire-and-forget writes stop arriving ────
  const withQr = flows.filter((f) => f.qrId !== undefined);
  const prefixes = new Map<string, Flow>();
  for (const flow of withQr) {
    const prefix = flow.qrId!.slice(0, 8);
    if (prefixes.has(prefix))
      throw new Error(`two QR ids share the audit prefix ${prefix}: rerun (48-bit prefixes; should never happen)`);
    prefixes.set(prefix, flow);
  }
  const expectedRows = withQr.length * TRANSITIONS.length;
  const settleStarted = performance.now();
  const settleMs = options.auditSettleMs ?? 30_000;
  let auditRows = await readAudit(db);
  let lastCount = auditRows.length;
  let stableSince = performance.now();
  for (;;) {
    const now = performance.now();
    // All there and quiet for a moment (a doubled row would arrive with the rest), or given up.
    if (auditRows.length >= expectedRows && now - stableSince >= 500) break;
    if (now - settleStarted >= settleMs) break;
    await new Promise((r) => setTimeout(r, 100));
    auditRows = await readAudit(db);
    if (auditRows.length !== lastCount) {
      lastCount = auditRows.length;
      stableSince = performance.now();
    }
  }
  const auditSettledMs = performance.now() - settleStarted;

  const counts = new Map<string, number>();
  const consumedOf = new Map<string, AuditRow[]>();
  let unknownQr = 0;
  for (const row of auditRows) {
    if (!prefixes.has(row.qr)) {
      unknownQr++;
      if (unknownQr <= 3) note(`audit ${row.type} for a QR id no login made (${row.qr})`);
      continue;
    }
    counts.set(`${row.qr} ${row.type}`, (counts.get(`${row.qr} ${row.type}`) ?? 0) + 1);
    if (row.type === 'qr.consumed') consumedOf.set(row.qr, [...(consumedOf.get(row.qr) ?? []), row]);
  }
  const auditMismatches: AuditMismatch[] = [];
  for (const [qr, flow] of prefixes) {
    for (const type of [...TRANSITIONS, ...NEVER]) {
      const count = counts.get(`${qr} ${type}`) ?? 0;
      const expected = (TRANSITIONS as readonly string[]).includes(type) ? 1 : 0;
      if (count !== expected) {
        auditMismatches.push({ qr, login: flow.index, type, count, expected });
        if (auditMismatches.length <= 5)
          note(`audit: qr ${qr} (login ${flow.index}) has ${type} × ${count}, expected ${expected}`);
      }
    }
  }

  // ── Each login against the database ───────────────────────────────────────
  let completed = 0;
  let lost = 0;
  let misattributed = 0;
  let withSession = 0;
  for (const flow of flows) {
    if (flow.sid !== undefined) completed++;
    const prefix = flow.qrId?.slice(0, 8);
    // Its sessions: the one the exchange answered with, and any the audit log ties to its QR id.
    const own = new Set<string>();
    if (flow.sid !== undefined && sessionUser.has(flow.sid)) own.add(flow.sid);
    for (const row of prefix ? (consumedOf.get(prefix) ?? []) : [])
      if (row.session_id && sessionUser.has(row.session_id)) own.add(row.session_id);
    if (own.size === 0) {
      lost++;
      if (!flow.failed)
        note(`login ${flow.index} (qr ${prefix}): exchange answered session ${flow.sid}, not in the database`);
      continue;
    }
    withSession++;
    if (own.size > 1) note(`login ${flow.index} (qr ${prefix}): ${own.size} web sessions (${[...own].join(', ')})`);
    let wrong = false;
    for (const sessionId of own) {
      if (sessionUser.get(sessionId) !== flow.phone.userId) wrong = true;
    }
    if (flow.sid !== undefined && (flow.sub !== flow.phone.userId || flow.exchangeUserId !== flow.phone.userId))
      wrong = true;
    for (const row of prefix ? (consumedOf.get(prefix) ?? []) : []) {
      if (
        row.approved_by !== flow.phone.sessionId ||
        row.user_id !== flow.phone.userId ||
        (flow.sid !== undefined && row.session_id !== flow.sid)
      )
        wrong = true;
    }
    if (wrong) {
      misattributed++;
      note(
        `login ${flow.index} (qr ${prefix}): approved by phone ${flow.phone.sessionId} of user ${flow.phone.userId}, but got session(s) ${[...own].map((s) => `${s} of ${sessionUser.get(s)}`).join(', ')}, token sub ${flow.sub}`,
      );
    }
  }
  // Every QR web session beyond the first of its login, and any no login accounts for.
  const doubled = sessionRows.length - withSession;
  if (doubled > 0)
    note(`${sessionRows.length} web sessions made by QR for ${logins} logins (${completed} exchanges answered 200)`);

  const latency = Object.fromEntries(
    STEPS.map((step) => {
      const xs = [...latencies[step]].sort((x, y) => x - y);
      const at = (q: number) => (xs.length === 0 ? 0 : xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!);
      return [step, { p50: at(0.5), p99: at(0.99), max: xs.length === 0 ? 0 : xs[xs.length - 1]! }];
    }),
  ) as Record<Step, { p50: number; p99: number; max: number }>;

  return {
    seed,
    logins,
    phones: phones.length,
    concurrency,
    completed,
    lost,
    doubled,
    misattributed,
    errors,
    serverErrors,
    auditMismatches,
    auditSettledMs,
    durationMs,
    loginsPerSecond: (completed * 1000) / durationMs,
    staleRetries,
    retries,
    requestsPerInstance,
    latency,
    samples,
  };
}

interface AuditRow {
  type: string;
  qr: string;
  user_id: string | null;
  session_id: string | null;
  approved_by: string | null;
}

function readAudit(db: Queryable): Promise<AuditRow[]> {
  return db.query(
    `SELECT type, detail->>'qr' AS qr, user_id, session_id, detail->>'approvedBy' AS approved_by
       FROM audit_events WHERE type = ANY($1)`,
    [[...TRANSITIONS, ...NEVER]],
  ) as Promise<AuditRow[]>;
}

/** A JSON POST over `agent`; rejects with `staleSocket: true` when a reused connection died before any answer. */
function post(
  agent: Agent,
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), ...headers },
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () =>
      req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'TIMEOUT' })),
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      const stale = req.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE') && !answered;
      reject(Object.assign(error, { staleSocket: stale }));
    });
    req.end(body);
  });
}

const pick = (random: () => number): 0 | 1 => (random() < 0.5 ? 0 : 1);

/** One line of figures. */
export function describeReport(r: ConcurrentLoginsReport): string {
  const errors = Object.entries(r.errors)
    .map(([k, v]) => `${k} ×${v}`)
    .join(', ');
  const lat = (s: Step) => `${s} ${r.latency[s].p50.toFixed(0)}/${r.latency[s].p99.toFixed(0)}`;
  return (
    `${r.logins} logins (${r.phones} phones, ${r.concurrency} in flight, seed ${r.seed}): ` +
    `completed ${r.completed}, lost ${r.lost}, doubled ${r.doubled}, misattributed ${r.misattributed}, 5xx ${r.serverErrors}, ` +
    `audit mismatches ${r.auditMismatches.length} (settled in ${r.auditSettledMs.toFixed(0)} ms); ` +
    `${(r.durationMs / 1000).toFixed(2)} s, ${r.loginsPerSecond.toFixed(1)} logins/s; ` +
    `requests A/B ${r.requestsPerInstance[0]}/${r.requestsPerInstance[1]} (${r.retries} retried after a transient failure, ${r.staleRetries} re-sent on a stale connection); ` +
    `p50/p99 ms: ${STEPS.map(lat).join(', ')}; errors: ${errors || 'none'}`
  );
}
