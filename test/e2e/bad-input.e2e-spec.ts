import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { SessionsService } from '../../src/auth/sessions/sessions.service.js';
import { p256PublicJwk } from '../support/device-keys.js';
import { insertIdentity } from '../support/rows.js';
import { NO_LOGIN_LIMITS, testConfig } from '../support/test-config.js';
import { createUser, loginMobile, loginWeb, TEST_PASSWORD } from '../support/accounts.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import {
  BAD_HEADER_VALUES,
  BAD_SEGMENTS,
  badCursors,
  badQueryValues,
  bodyArbitrary,
  contractProblems,
  fillPath,
  hugeJson,
  jsonText,
  MALFORMED_JSON,
  ODD_QUERIES,
  operationsOf,
  paramsIn,
  queryArbitrary,
  send,
  takesBody,
  templateParams,
  type Operation,
  type RawRequest,
  type RawResponse,
} from '../support/openapi-fuzz.js';
import { createQr, signInPhone } from '../support/qr.js';

/**
 * Security review: "bad input on every route". Walks every path and method of
 * the OpenAPI document the app serves (a new route is covered without editing
 * this file) and sends it hostile path segments, query values, cursors and
 * headers, wrong content types, malformed and 2 MB bodies, and fast-check
 * generated query strings and JSON bodies (unknown fields, NUL, unpaired
 * surrogates, 10k-character strings, huge and negative numbers), anonymously
 * and with the kind of token the route wants. Every answer must be below 500,
 * every error exactly the envelope of PROTOCOL.md § Errors (request id =
 * `X-Request-Id`), no stack trace anywhere, and a refused (4xx) request must
 * leave the account tables as they were: nothing half-written.
 *
 * Successful requests may change things (an admin route deletes the throwaway
 * "victim" user, a logout ends the admin's session): after each one,
 * `repair()` signs back in and replaces what is gone, then the tables'
 * fingerprint is taken again.
 */

/** Not `audit_events`: it rightly records refused sign-ins. */
const FINGERPRINTED = ['users', 'identities', 'sessions', 'refresh_tokens', 'signing_keys'] as const;

/**
 * Per table, the row count and the newest row version's transaction id
 * (`xmin`): an insert, update or delete changes one of them, a rolled-back
 * transaction neither. Cheap enough to take after every request.
 */
const FINGERPRINT_SQL = `SELECT ${FINGERPRINTED.map((table) => `(SELECT count(*) || ':' || coalesce(max(xmin::text::bigint), 0) FROM ${table}) AS ${table}`).join(', ')}`;

/**
 * Not TEST_PASSWORD, which the generated bodies use as a known password: a
 * generated `POST /api/v1/me/password` as the admin must never succeed, or
 * `repair()` could not sign the admin back in.
 */
const ADMIN_PASSWORD = 'the admin passphrase nobody fuzzes';
const SEED = 20_261_201;
/** fast-check runs per route with a documented body, and per route that takes none (its body is only noise to it). */
const BODY_RUNS = 30;
const UNDOCUMENTED_BODY_RUNS = 8;
/** fast-check runs per route with query parameters. */
const QUERY_RUNS = 15;

interface Credential {
  name: 'anonymous' | 'admin' | 'phone with device key' | 'keyless phone';
  token?: string;
}

/** Who and what the fuzzed requests aim at; rebuilt by `repair()` whenever a request that succeeded destroyed some of it. */
interface World {
  admin: { login: string; token: string };
  phone: { login: string; token: string };
  keylessPhone: { login: string; token: string };
  /** A throwaway user that admin routes may edit, disable or delete. */
  victim: { id: string; login: string; sessionIds: string[]; identityIds: string[]; refreshToken: string };
  qr: { id: string; pollToken: string; matchCode?: string };
}

/** What a path segment refers to, by the REST convention of the path (the collection before it, or the parameter's name). */
type Kind = 'user' | 'session' | 'identity' | 'qr' | 'provider';

function kindOf(path: string, param: string): Kind {
  const before = path.split('/').at(path.split('/').indexOf(`{${param}}`) - 1) ?? '';
  const name = `${param} ${param === 'id' ? before : ''}`.toLowerCase();
  if (name.includes('qr')) return 'qr';
  if (name.includes('identit')) return 'identity';
  if (name.includes('session')) return 'session';
  if (name.includes('provider')) return 'provider';
  return 'user';
}

describe('bad input on every route of the served OpenAPI document', () => {
  let t: TestApp | undefined;
  let operations: Operation[] = [];
  let world: World;
  let fingerprint = '';
  /** Problems by route and kind (first example kept), reported all at once per test. */
  let findings = new Map<string, string>();

  const app = () => t!;
  const database = () => app().app.get(DataSource);
  const takeFingerprint = async () => JSON.stringify((await database().query(FINGERPRINT_SQL)) as unknown[]);

  /** The id of a real thing of the world, by kind. */
  const ref = (kind: Kind): string =>
    ({
      user: world.victim.id,
      session: world.victim.sessionIds[0]!,
      identity: world.victim.identityIds[0]!,
      qr: world.qr.id,
      provider: 'wechat',
    })[kind];
  /** A path segment: `@kind` is a real thing of the world (resolved when sent), anything else literal. */
  const resolve = (segment: string) => (segment.startsWith('@') ? ref(segment.slice(1) as Kind) : segment);
  const KNOWN_REFS = ['@user', '@session', '@identity', '@qr', '@provider'];

  const defaultSegments = (op: Operation) =>
    Object.fromEntries(templateParams(op).map((name) => [name, `@${kindOf(op.path, name)}`]));

  const credentialsFor = (op: Operation): Credential[] => {
    if (!op.secured) return [{ name: 'anonymous' }];
    if (op.tags.includes('qr-login')) {
      return [
        { name: 'anonymous' },
        { name: 'phone with device key', token: world.phone.token },
        { name: 'keyless phone', token: world.keylessPhone.token },
      ];
    }
    return [{ name: 'anonymous' }, { name: 'admin', token: world.admin.token }];
  };

  /** Values that exist (or are new and valid), for documented body fields of the same name, at any depth. */
  const knownFields = (): Record<string, readonly unknown[]> => ({
    login: [world.victim.login, world.phone.login, ...[1, 2, 3].map((n) => `fuzz.${randomUUID().slice(0, 8)}${n}`)],
    publicKey: [p256PublicJwk()],
    password: [TEST_PASSWORD],
    currentPassword: [TEST_PASSWORD],
    newPassword: ['a brand new long passphrase'],
    refreshToken: [world.victim.refreshToken],
    matchCode: world.qr.matchCode ? [world.qr.matchCode] : [],
    returnTo: ['/', '/login'],
    avatarUrl: ['https://example.com/a.png', null],
  });

  /** Known header values by name (lower case). */
  const knownHeader = (name: string): string | undefined =>
    name.toLowerCase() === 'x-poll-token' ? world.qr.pollToken : undefined;

  /** A new active user (password TEST_PASSWORD) with no sessions or identities yet. */
  async function newVictim(): Promise<World['victim']> {
    const { user, login } = await createUser(app(), { displayName: 'Fuzz victim' });
    return { id: user.id, login, sessionIds: [], identityIds: [], refreshToken: '' };
  }

  /** Gives the victim two live sessions (a phone and a browser) and two identities, made straight through the services. */
  async function equipVictim(victim: World['victim']): Promise<World['victim']> {
    const sessions = app().app.get(SessionsService);
    const context = { ip: '127.0.0.1', userAgent: 'bad-input fuzz' };
    const mobile = await sessions.start(victim.id, 'mobile', 'password', context, {
      id: `fuzz-${randomUUID()}`,
      name: 'Fuzz phone',
      platform: 'android',
    });
    const web = await sessions.start(victim.id, 'web', 'password', context);
    const identityIds = [
      await insertIdentity(app(), victim.id, 'wechat'),
      await insertIdentity(app(), victim.id, 'dingtalk'),
    ];
    return {
      ...victim,
      sessionIds: [mobile.session.id, web.session.id],
      identityIds,
      refreshToken: mobile.refreshToken,
    };
  }

  async function signInAdmin(login: string) {
    return { login, token: (await loginWeb(app(), login, ADMIN_PASSWORD)).accessToken };
  }

  const works = async (token: string) =>
    (await send(app().url, { method: 'GET', path: '/api/v1/me', headers: { authorization: `Bearer ${token}` } }))
      .status === 200;

  /**
   * Puts back what a successful fuzzed request took away (a signed-out token,
   * a deleted or disabled victim or its sessions and identities, a finished
   * QR session), then re-takes the fingerprint: successes may write.
   */
  async function repair(): Promise<void> {
    if (!(await works(world.admin.token))) world.admin = await signInAdmin(world.admin.login);
    if (!(await works(world.phone.token)))
      world.phone = { login: world.phone.login, token: (await signInPhone(app(), world.phone.login)).accessToken };
    if (!(await works(world.keylessPhone.token)))
      world.keylessPhone = {
        login: world.keylessPhone.login,
        token: (await loginMobile(app(), world.keylessPhone.login)).accessToken,
      };
    const [state] = !world.victim.id
      ? []
      : ((await database().query(
          `SELECT u.status = 'active' AND u.deleted_at IS NULL AS "userIntact",
              (SELECT count(*) FROM sessions s WHERE s.id = ANY($2::uuid[]) AND s.revoked_at IS NULL) = 2
          AND (SELECT count(*) FROM identities i WHERE i.id = ANY($3::uuid[])) = 2 AS "equipmentIntact"
         FROM users u WHERE u.id = $1`,
          [world.victim.id, world.victim.sessionIds, world.victim.identityIds],
        )) as Array<{ userIntact: boolean; equipmentIntact: boolean }>);
    if (!state?.userIntact) world.victim = await equipVictim(await newVictim());
    else if (!state.equipmentIntact) world.victim = await equipVictim(world.victim);
    const qr = await send(app().url, {
      method: 'GET',
      path: `/api/v1/qr-sessions/${world.qr.id}`,
      headers: { 'x-poll-token': world.qr.pollToken },
    });
    if (qr.status !== 200 || !['pending', 'scanned'].includes((JSON.parse(qr.text) as { status: string }).status))
      world.qr = await createQr(app());
    fingerprint = await takeFingerprint();
  }

  /**
   * Sends `req` as each credential of the route and checks every answer; a
   * refused one must not have changed a fingerprinted table.
   */
  async function probe(op: Operation, req: RawRequest, what: string): Promise<string[]> {
    const problems: string[] = [];
    for (const credential of credentialsFor(op)) {
      const headers = { ...req.headers, ...(credential.token ? { authorization: `Bearer ${credential.token}` } : {}) };
      let res: RawResponse;
      try {
        res = await send(app().url, { ...req, headers });
      } catch (err) {
        problems.push(record(op, `no answer (${(err as Error).message})`, `${what} as ${credential.name}`));
        continue;
      }
      for (const problem of contractProblems(res))
        problems.push(record(op, problem, `${what} as ${credential.name}`, res));
      if (res.status >= 400 && res.status < 500) {
        const after = await takeFingerprint();
        if (after !== fingerprint) {
          problems.push(
            record(
              op,
              `half-written: ${changedTables(fingerprint, after)} changed although it answered ${res.status}`,
              `${what} as ${credential.name}`,
              res,
            ),
          );
          fingerprint = after;
        }
      } else if (op.method !== 'GET' || res.status >= 500) {
        await repair();
      } else {
        fingerprint = await takeFingerprint();
      }
    }
    return problems;
  }

  function record(op: Operation, problem: string, what: string, res?: RawResponse): string {
    const key = `${op.method} ${op.path}: ${problem.replace(/[0-9a-f-]{36}/g, '…')}`;
    if (!findings.has(key)) {
      const requestId = res?.headers['x-request-id'];
      const logged = requestId
        ? app().log.lines.find((l) => l.includes(String(requestId)) && /"level":(40|50)/.test(l))
        : undefined;
      findings.set(
        key,
        `${what} → ${res?.status ?? 'nothing'} ${res?.text.slice(0, 300) ?? ''}${logged ? `\n    log: ${logged.slice(0, 600)}` : ''}`,
      );
    }
    return key;
  }

  function changedTables(before: string, after: string): string {
    const [b, a] = [
      JSON.parse(before) as Array<Record<string, string>>,
      JSON.parse(after) as Array<Record<string, string>>,
    ];
    return FINGERPRINTED.filter((table) => b[0]![table] !== a[0]![table]).join(', ');
  }

  const report = () => [...findings].map(([key, example]) => `${key}\n    e.g. ${example}`);

  /** A failed property: its problems are already recorded by `probe`; this adds the counterexample (or the error the test itself threw). */
  function noteCounterexample<T>(op: Operation, details: fc.RunDetails<T>): void {
    if (details.failed)
      findings.set(
        `${op.method} ${op.path}: fast-check counterexample`,
        (fc.defaultReportMessage(details) ?? '').slice(0, 1_500),
      );
  }

  /** A request to `op` with every parameter plausible except the ones given. */
  function requestTo(
    op: Operation,
    over: {
      segments?: Record<string, string>;
      query?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
      contentType?: string;
    } = {},
  ): RawRequest {
    const segments = Object.fromEntries(
      Object.entries({ ...defaultSegments(op), ...over.segments }).map(([k, v]) => [k, resolve(v)]),
    );
    const headers: Record<string, string> = {};
    for (const h of paramsIn(op, 'header')) {
      const known = knownHeader(h.name);
      if (known) headers[h.name.toLowerCase()] = known;
    }
    Object.assign(headers, over.headers);
    let body = over.body;
    if (body === undefined && takesBody(op) && op.method !== 'DELETE') body = jsonText(op.body?.example ?? {});
    if (body !== undefined) headers['content-type'] = over.contentType ?? 'application/json';
    return {
      method: op.method,
      path: fillPath(op.path, segments) + (over.query ? `?${over.query}` : ''),
      headers,
      body,
    };
  }

  /** The `nextCursor` of a one-item page of a list route, as the admin sees it (null when there is no second page). */
  async function realCursor(op: Operation): Promise<string | null> {
    const page = await send(app().url, {
      ...requestTo(op, { query: 'limit=1' }),
      headers: { authorization: `Bearer ${world.admin.token}` },
    });
    return page.status === 200 ? ((JSON.parse(page.text) as { nextCursor?: string | null }).nextCursor ?? null) : null;
  }

  beforeAll(async () => {
    t = await createTestApp({
      config: testConfig({ LOG_LEVEL: 'warn', RATE_LIMITS: 'off', DEMO_USER: 'off', ...NO_LOGIN_LIMITS }),
    });
    const document = await send(app().url, { method: 'GET', path: '/api/docs-json' });
    operations = operationsOf(JSON.parse(document.text) as Parameters<typeof operationsOf>[0]);
    const { login: adminLogin } = await createUser(app(), {
      roles: ['admin'],
      password: ADMIN_PASSWORD,
      displayName: 'Fuzz admin',
    });
    const { login: phoneLogin } = await createUser(app(), { displayName: 'Fuzz phone owner' });
    const { login: keylessLogin } = await createUser(app(), { displayName: 'Fuzz keyless phone owner' });
    world = {
      admin: await signInAdmin(adminLogin),
      phone: { login: phoneLogin, token: (await signInPhone(app(), phoneLogin)).accessToken },
      keylessPhone: { login: keylessLogin, token: (await loginMobile(app(), keylessLogin)).accessToken },
      victim: { id: '', login: '', sessionIds: [], identityIds: [], refreshToken: '' },
      qr: await createQr(app()),
    };
    await repair();
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  it('serves an OpenAPI document listing the API routes, each with its path parameters declared', () => {
    expect(operations.length).toBeGreaterThan(30);
    expect(operations.filter((op) => op.path.startsWith('/api/v1/')).length).toBeGreaterThan(25);
    for (const op of operations) {
      expect({
        op: `${op.method} ${op.path}`,
        params: paramsIn(op, 'path')
          .map((p) => p.name)
          .sort(),
      }).toEqual({ op: `${op.method} ${op.path}`, params: templateParams(op).sort() });
    }
  });

  it('flags a 5xx, an error without the envelope or with another request id, a stack trace and a table write (self-check of the checks)', async () => {
    const json = { 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'r1' };
    const envelope = (body: object) =>
      JSON.stringify({ code: 'validation.failed', message: 'Nope.', requestId: 'r1', ...body });
    expect(contractProblems({ status: 400, headers: json, text: envelope({}) })).toEqual([]);
    expect(contractProblems({ status: 500, headers: json, text: envelope({ code: 'internal' }) })).toEqual([
      'answered 500',
    ]);
    expect(contractProblems({ status: 431, headers: {}, text: '' })).toEqual([
      'no X-Request-Id header',
      'a 431 without the JSON envelope: ',
    ]);
    expect(contractProblems({ status: 404, headers: json, text: envelope({ requestId: 'r2', extra: 1 }) })).toEqual([
      'envelope requestId "r2" is not the header\'s r1',
      'envelope with extra fields extra',
    ]);
    expect(
      contractProblems({
        status: 400,
        headers: json,
        text: envelope({ message: 'TypeError: x\n    at parse (/app/src/a.ts:1:2)' }),
      }),
    ).toEqual(['a stack trace in the body']);

    const before = await takeFingerprint();
    await database().query('UPDATE users SET display_name = display_name WHERE id = $1', [world.victim.id]);
    expect(changedTables(before, await takeFingerprint())).toBe('users');
    fingerprint = await takeFingerprint();
  });

  it('answers hostile path segments, query values, cursors, unknown query fields and headers with a success or a 4xx envelope, writing nothing when it refuses', async () => {
    findings = new Map();
    for (const op of operations) {
      for (const name of templateParams(op)) {
        for (const segment of [...BAD_SEGMENTS, ...KNOWN_REFS]) {
          await probe(op, requestTo(op, { segments: { [name]: segment } }), `${name}=${segment.slice(0, 40)}`);
        }
      }
      for (const param of paramsIn(op, 'query')) {
        let values = badQueryValues(param);
        if (param.name === 'cursor') values = [...values, ...badCursors(await realCursor(op))];
        for (const value of values)
          await probe(op, requestTo(op, { query: `${param.name}=${value}` }), `?${param.name}=${value.slice(0, 60)}`);
      }
      for (const query of ODD_QUERIES) await probe(op, requestTo(op, { query }), `?${query.slice(0, 60)}`);
      for (const header of paramsIn(op, 'header')) {
        for (const value of BAD_HEADER_VALUES)
          await probe(
            op,
            requestTo(op, { headers: { [header.name.toLowerCase()]: value } }),
            `${header.name}: ${value.slice(0, 40)}`,
          );
      }
    }
    expect(report()).toEqual([]);
  }, 240_000);

  it('answers fast-check generated query strings (declared fields plausible, hostile or repeated, unknown fields) with a success or a 4xx envelope, writing nothing when it refuses', async () => {
    findings = new Map();
    for (const op of operations.filter((o) => paramsIn(o, 'query').length > 0)) {
      const cursor = paramsIn(op, 'query').some((p) => p.name === 'cursor') ? await realCursor(op) : null;
      const property = fc.asyncProperty(
        queryArbitrary(paramsIn(op, 'query'), cursor ? { cursor: [cursor] } : {}),
        async (query) => {
          const problems = await probe(op, requestTo(op, { query }), `?${query.slice(0, 200)}`);
          return problems.length === 0;
        },
      );
      const details = await fc.check(property, { numRuns: QUERY_RUNS, seed: SEED, endOnFailure: true });
      noteCounterexample(op, details);
    }
    expect(report()).toEqual([]);
  }, 120_000);

  it('refuses malformed JSON, other content types and 2 MB bodies on every route that can take a body, with a 4xx envelope and nothing written', async () => {
    findings = new Map();
    for (const op of operations.filter(takesBody)) {
      const variants: Array<[string, Parameters<typeof requestTo>[1]]> = [
        ...MALFORMED_JSON.map((body, i): [string, Parameters<typeof requestTo>[1]] => [
          `malformed JSON #${i}`,
          { body },
        ]),
        ['text/plain', { body: '{"login":"x"}', contentType: 'text/plain' }],
        ['form', { body: 'login=x&password=y', contentType: 'application/x-www-form-urlencoded' }],
        [
          'multipart',
          {
            body: '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--\r\n',
            contentType: 'multipart/form-data; boundary=b',
          },
        ],
        ['XML', { body: '<a/>', contentType: 'application/xml' }],
        ['no content type', { body: '{}', contentType: '' }],
        ['JSON in UTF-16', { body: Buffer.from('{}', 'utf16le'), contentType: 'application/json; charset=utf-16' }],
        ['JSON in an unknown charset', { body: '{}', contentType: 'application/json; charset=klingon' }],
        ['gzip that is not gzip', { body: 'not gzip', headers: { 'content-encoding': 'gzip' } }],
        ['an unknown content encoding', { body: '{}', headers: { 'content-encoding': 'br, zstd, x-custom' } }],
        ['2 MB of JSON', { body: hugeJson(2 * 1024 * 1024) }],
        ['2 MB of text', { body: 'a'.repeat(2 * 1024 * 1024), contentType: 'text/plain' }],
      ];
      for (const [what, over] of variants) {
        const req = requestTo(op, over);
        if (over?.contentType === '') delete req.headers!['content-type'];
        await probe(op, req, what);
      }
    }
    expect(report()).toEqual([]);
  }, 240_000);

  it('answers fast-check generated JSON bodies (unknown fields, NUL, lone surrogates, 10k strings, huge numbers, deep nesting) with a success or a 4xx envelope, writing nothing when it refuses', async () => {
    findings = new Map();
    for (const op of operations.filter(takesBody)) {
      const segmentArbitraries = Object.fromEntries(
        templateParams(op).map((name) => [
          name,
          fc.oneof(
            { weight: 4, arbitrary: fc.constant(`@${kindOf(op.path, name)}`) },
            { weight: 1, arbitrary: fc.constantFrom(...KNOWN_REFS) },
            { weight: 1, arbitrary: fc.constantFrom(...BAD_SEGMENTS) },
          ),
        ]),
      );
      const property = fc.asyncProperty(
        fc.record(segmentArbitraries),
        bodyArbitrary(op.body, knownFields()),
        async (segments, body) => {
          const text = jsonText(body);
          const problems = await probe(
            op,
            requestTo(op, { segments, body: text ?? '' }),
            `body ${(text ?? '').slice(0, 200)}`,
          );
          return problems.length === 0;
        },
      );
      const details = await fc.check(property, {
        numRuns: op.body ? BODY_RUNS : UNDOCUMENTED_BODY_RUNS,
        seed: SEED,
        endOnFailure: true,
      });
      noteCounterexample(op, details);
    }
    expect(report()).toEqual([]);
  }, 240_000);
});
