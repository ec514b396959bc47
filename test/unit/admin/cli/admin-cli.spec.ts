import { describe, expect, it } from '@jest/globals';
import { run, type CliIo } from '../../../../src/admin/cli/admin-cli.js';
import { displayWidth } from '../../../../src/admin/cli/output.js';

/**
 * The admin CLI against a fake admin API (a `fetch` that answers by method and
 * path, failing the test on any request it has no answer for): argument
 * parsing, requests, output, exit codes, and credentials never printed.
 */

interface Seen {
  method: string;
  path: string;
  query: Record<string, string>;
  auth: string | null;
  body: unknown;
}

type Handler = (
  req: Seen,
) => { status: number; body?: unknown; text?: string } | Promise<{ status: number; body?: unknown; text?: string }>;

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.admin-token-payload.signature-of-the-token';
const PASSWORD = 'the admin passphrase';

function fakeApi(routes: Record<string, Handler>) {
  const seen: Seen[] = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    const req: Seen = {
      method: init?.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      auth: headers.get('authorization'),
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    seen.push(req);
    const handler = routes[`${req.method} ${req.path}`];
    if (!handler) throw new Error(`unexpected request ${req.method} ${url.pathname}${url.search}`);
    const answer = await handler(req);
    const text = answer.text ?? (answer.body === undefined ? '' : JSON.stringify(answer.body));
    return new Response(answer.status === 204 ? null : text, {
      status: answer.status,
      headers: { 'Content-Type': answer.text === undefined ? 'application/json' : 'text/html' },
    });
  }) as typeof fetch;
  return { fetch: fetchFn, seen };
}

function io(
  fetchFn: typeof fetch,
  env: Record<string, string> = { SCANGATE_TOKEN: TOKEN },
  extra: Partial<CliIo> = {},
) {
  let stdout = '';
  let stderr = '';
  return {
    io: {
      fetch: fetchFn,
      env,
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      ...extra,
    } satisfies CliIo,
    out: () => stdout,
    err: () => stderr,
  };
}

const envelope = (code: string, message: string, extra: object = {}) => ({
  code,
  message,
  requestId: 'req-1',
  ...extra,
});

const user = (over: Partial<Record<string, unknown>> = {}) => ({
  id: '0b6f7c1e-0000-4000-8000-000000000001',
  login: 'lilei',
  displayName: 'Li Lei',
  avatarUrl: null,
  status: 'active',
  roles: ['user'],
  createdAt: '2026-11-26T08:00:00.000Z',
  updatedAt: '2026-11-26T08:00:00.000Z',
  ...over,
});

const event = (n: number, over: Partial<Record<string, unknown>> = {}) => ({
  id: `ev-${n}`,
  type: 'user.updated',
  at: `2026-11-27T08:00:${String(n).padStart(2, '0')}.000Z`,
  actorId: 'admin-1',
  userId: 'user-1',
  sessionId: null,
  ip: '10.0.0.1',
  userAgent: 'test',
  detail: { n },
  ...over,
});

describe('admin CLI: arguments and usage', () => {
  it.each([
    [[], /no command/],
    [['users'], /no command|unknown command/],
    [['users', 'frobnicate'], /unknown command "users frobnicate"/],
    [['users', 'list', '--nope'], /Unknown option '--nope'/],
    [['users', 'disable'], /"users disable" takes <id>/],
    [['users', 'disable', 'a', 'b'], /"users disable" takes <id>/],
    [['users', 'list', 'extra'], /"users list" takes no arguments/],
    [['users', 'create', '--login', 'x'], /needs --display-name/],
    [['users', 'create', '--display-name', 'X'], /needs --login/],
    [['sessions', 'revoke', 's1'], /needs --user/],
    [['sessions', 'revoke-all'], /needs --user/],
    [['users', 'list', '--follow'], /"users list" takes no --follow/],
    [['--q', 'x', 'users', 'list'], /--q goes after the command/],
    [['users', 'create', '--login', 'x', '--display-name', 'X', '--password', 'p'], /--password-stdin/],
    [['users', 'list', '--limit'], /argument missing/],
    [['users', 'list', '--limit', '0'], /--limit is a whole number from 1 to 200/],
    [['audit', 'tail', '--limit', '201'], /--limit is a whole number from 1 to 200/],
    [['audit', 'tail', '--limit', 'ten'], /--limit is a whole number from 1 to 200/],
  ])('%j is a usage error: exit 2, a message, no request', async (argv, message) => {
    const api = fakeApi({});
    const cli = io(api.fetch);
    expect(await run(argv, cli.io)).toBe(2);
    expect(cli.err()).toMatch(message);
    expect(cli.out()).toBe('');
    expect(api.seen).toEqual([]);
  });

  it('without credentials: exit 2 and how to give them', async () => {
    const cli = io(fakeApi({}).fetch, {});
    expect(await run(['users', 'list'], cli.io)).toBe(2);
    expect(cli.err()).toMatch(/no credentials.*SCANGATE_TOKEN.*--login and --password/);
    const half = io(fakeApi({}).fetch, {});
    expect(await run(['--login', 'root', 'users', 'list'], half.io)).toBe(2);
    expect(half.err()).toMatch(/--login needs --password/);
  });

  it('refuses a server URL that is not http(s), or holds credentials', async () => {
    for (const url of ['ftp://x', 'not a url', 'http://user:pw@host']) {
      const cli = io(fakeApi({}).fetch, { SCANGATE_TOKEN: TOKEN, SCANGATE_URL: url });
      expect(await run(['users', 'list'], cli.io)).toBe(2);
    }
  });

  it('--help prints every command and exits 0 without a request (also for one command)', async () => {
    const api = fakeApi({});
    const cli = io(api.fetch, {});
    expect(await run(['--help'], cli.io)).toBe(0);
    for (const c of [
      'users list',
      'users create',
      'users disable',
      'users enable',
      'sessions revoke',
      'sessions revoke-all',
      'audit tail',
    ])
      expect(cli.out()).toContain(c);
    expect(cli.out()).toMatch(/Exit codes: 0 ok, 1 API error, 2 usage/);
    const one = io(api.fetch, {});
    expect(await run(['audit', 'tail', '-h'], one.io)).toBe(0);
    expect(one.out()).toMatch(/^usage: npm run admin -- audit tail \[--follow\]/);
    expect(api.seen).toEqual([]);
  });
});

describe('admin CLI: users', () => {
  it('users list: GET /admin/users with the filters under their API names, the token as bearer, a table out', async () => {
    const api = fakeApi({
      'GET /api/v1/admin/users': () => ({
        status: 200,
        body: {
          items: [
            user(),
            user({
              id: 'id-2',
              login: 'hanmeimei',
              displayName: '韩梅梅',
              status: 'disabled',
              roles: ['user', 'auditor'],
            }),
          ],
          nextCursor: null,
        },
      }),
    });
    const cli = io(api.fetch, { SCANGATE_TOKEN: TOKEN, SCANGATE_URL: 'https://sso.example.com/' });
    expect(
      await run(
        [
          'users',
          'list',
          '--q',
          'li',
          '--status',
          'active',
          '--role',
          'user',
          '--provider',
          'wechat',
          '--created-from',
          '2026-01-01T00:00:00Z',
          '--sort',
          'login',
          '--limit',
          '10',
        ],
        cli.io,
      ),
    ).toBe(0);
    expect(api.seen).toEqual([
      {
        method: 'GET',
        path: '/api/v1/admin/users',
        query: {
          q: 'li',
          status: 'active',
          role: 'user',
          provider: 'wechat',
          createdFrom: '2026-01-01T00:00:00Z',
          sort: 'login',
          limit: '10',
        },
        auth: `Bearer ${TOKEN}`,
        body: undefined,
      },
    ]);
    const lines = cli.out().split('\n');
    expect(lines[0]).toMatch(/^ID\s+LOGIN\s+DISPLAY NAME\s+STATUS\s+ROLES\s+CREATED$/);
    expect(lines[1]).toMatch(
      /^0b6f7c1e-0000-4000-8000-000000000001\s+lilei\s+Li Lei\s+active\s+user\s+2026-11-26T08:00:00.000Z$/,
    );
    expect(lines[2]).toMatch(/^id-2\s+hanmeimei\s+韩梅梅\s+disabled\s+user,auditor\s+2026/);
    // Columns align by display width (韩梅梅 takes 6 columns, as "Li Lei" does).
    const column = (line: string, word: string) => displayWidth(line.slice(0, line.indexOf(word)));
    expect(column(lines[1]!, 'active')).toBe(column(lines[0]!, 'STATUS'));
    expect(column(lines[2]!, 'disabled')).toBe(column(lines[0]!, 'STATUS'));
    expect(cli.err()).toBe('');
  });

  it('users list without --all: one page, and the next cursor on stderr; --all follows every cursor; --json prints JSON lines', async () => {
    const pages: Record<string, { items: unknown[]; nextCursor: string | null }> = {
      '': { items: [user({ id: 'a' })], nextCursor: 'c1' },
      c1: { items: [user({ id: 'b' })], nextCursor: 'c2' },
      c2: { items: [user({ id: 'c' })], nextCursor: null },
    };
    const api = fakeApi({ 'GET /api/v1/admin/users': (req) => ({ status: 200, body: pages[req.query.cursor ?? ''] }) });
    const one = io(api.fetch);
    expect(await run(['users', 'list'], one.io)).toBe(0);
    expect(one.out().trim().split('\n')).toHaveLength(2);
    expect(one.err()).toBe('more users: add --cursor c1 (or --all)\n');

    const all = io(api.fetch);
    expect(await run(['--json', 'users', 'list', '--all'], all.io)).toBe(0);
    expect(
      all
        .out()
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id),
    ).toEqual(['a', 'b', 'c']);
    expect(api.seen.slice(1).map((r) => r.query)).toEqual([
      { limit: '200' },
      { limit: '200', cursor: 'c1' },
      { limit: '200', cursor: 'c2' },
    ]);
    expect(all.err()).toBe('');
  });

  it('users create: POST with login, display name, roles and the password from stdin (trailing newline dropped); the password is never printed', async () => {
    const api = fakeApi({
      'POST /api/v1/admin/users': (req) => ({
        status: 201,
        body: user({ login: (req.body as { login: string }).login, roles: ['user', 'auditor'] }),
      }),
    });
    const cli = io(api.fetch, { SCANGATE_TOKEN: TOKEN }, { readStdin: async () => 'a new user passphrase\n' });
    expect(
      await run(
        [
          'users',
          'create',
          '--login',
          'lilei',
          '--display-name',
          'Li Lei',
          '--password-stdin',
          '--roles',
          'user, auditor',
          '--json',
        ],
        cli.io,
      ),
    ).toBe(0);
    expect(api.seen[0]).toMatchObject({
      method: 'POST',
      path: '/api/v1/admin/users',
      body: { login: 'lilei', displayName: 'Li Lei', password: 'a new user passphrase', roles: ['user', 'auditor'] },
    });
    expect(JSON.parse(cli.out())).toMatchObject({ login: 'lilei', roles: ['user', 'auditor'] });
    expect(cli.out() + cli.err()).not.toContain('passphrase');

    const none = fakeApi({ 'POST /api/v1/admin/users': () => ({ status: 201, body: user() }) });
    const plain = io(none.fetch);
    expect(await run(['users', 'create', '--login', 'lilei', '--display-name', 'Li Lei'], plain.io)).toBe(0);
    expect(none.seen[0]!.body).toEqual({ login: 'lilei', displayName: 'Li Lei' });
    expect(plain.out()).toMatch(/^ID\s+LOGIN/);

    const empty = io(fakeApi({}).fetch, { SCANGATE_TOKEN: TOKEN }, { readStdin: async () => '\n' });
    expect(await run(['users', 'create', '--login', 'x', '--display-name', 'X', '--password-stdin'], empty.io)).toBe(2);
  });

  it('users disable / enable: PATCH { status } on the id (path-encoded)', async () => {
    const api = fakeApi({
      'PATCH /api/v1/admin/users/u%2F1': (req) => ({
        status: 200,
        body: user({ id: 'u/1', status: (req.body as { status: string }).status }),
      }),
    });
    const cli = io(api.fetch);
    expect(await run(['users', 'disable', 'u/1'], cli.io)).toBe(0);
    expect(await run(['users', 'enable', 'u/1'], cli.io)).toBe(0);
    expect(api.seen.map((r) => r.body)).toEqual([{ status: 'disabled' }, { status: 'active' }]);
    expect(cli.out()).toBe(
      'User lilei (u/1) is now disabled; every session of theirs is refused.\nUser lilei (u/1) is now active.\n',
    );
  });

  it('makes terminal escape sequences from the server harmless', async () => {
    const api = fakeApi({
      'GET /api/v1/admin/users': () => ({
        status: 200,
        body: { items: [user({ displayName: 'evil\u001b[2J\u001b]0;pwned\u0007' })], nextCursor: null },
      }),
    });
    const cli = io(api.fetch);
    expect(await run(['users', 'list'], cli.io)).toBe(0);
    expect(cli.out()).not.toMatch(/[\u0000-\u0008\u001b\u0007]/);
    expect(cli.out()).toContain('evil\\u001b[2J');
  });
});

describe('admin CLI: sessions', () => {
  it('sessions revoke: DELETE /admin/users/{user}/sessions/{session} (204)', async () => {
    const api = fakeApi({ 'DELETE /api/v1/admin/users/u1/sessions/s1': () => ({ status: 204 }) });
    const cli = io(api.fetch);
    expect(await run(['sessions', 'revoke', 's1', '--user', 'u1'], cli.io)).toBe(0);
    expect(cli.out()).toBe('Revoked session s1 of user u1.\n');
    const json = io(api.fetch);
    expect(await run(['sessions', 'revoke', '--user', 'u1', 's1', '--json'], json.io)).toBe(0);
    expect(JSON.parse(json.out())).toEqual({ userId: 'u1', sessionId: 's1', revoked: true });
  });

  it('sessions revoke-all: DELETE /admin/users/{user}/sessions, with the count when the API gives one', async () => {
    const api = fakeApi({ 'DELETE /api/v1/admin/users/u1/sessions': () => ({ status: 200, body: { revoked: 3 } }) });
    const cli = io(api.fetch);
    expect(await run(['sessions', 'revoke-all', '--user', 'u1'], cli.io)).toBe(0);
    expect(cli.out()).toBe('Revoked every session of user u1 (3).\n');
  });
});

describe('admin CLI: audit tail', () => {
  it('prints the latest events newest last, with the filters', async () => {
    const api = fakeApi({
      'GET /api/v1/admin/audit-events': () => ({
        status: 200,
        body: { items: [event(3), event(2), event(1)], nextCursor: 'c' },
      }),
    });
    const cli = io(api.fetch);
    expect(await run(['audit', 'tail', '--type', 'user.updated', '--user', 'user-1', '--limit', '3'], cli.io)).toBe(0);
    expect(api.seen[0]!.query).toEqual({ type: 'user.updated', userId: 'user-1', limit: '3' });
    const lines = cli.out().trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe('2026-11-27T08:00:01.000Z  user.updated  actor=admin-1  user=user-1  ip=10.0.0.1  {"n":1}');
    expect(lines[2]).toMatch(/^2026-11-27T08:00:03.000Z/);
  });

  it('--follow polls every 2 s and prints each new event once, oldest first, until stopped (exit 0)', async () => {
    let stored = [event(2), event(1)];
    const api = fakeApi({
      'GET /api/v1/admin/audit-events': (req) => {
        if (req.query.cursor === 'older') return { status: 200, body: { items: [event(1)], nextCursor: null } };
        return {
          status: 200,
          body: {
            items: stored.slice(0, Number(req.query.limit)),
            nextCursor: stored.length > Number(req.query.limit) ? 'older' : null,
          },
        };
      },
    });
    const stop = new AbortController();
    const sleeps: number[] = [];
    let polls = 0;
    const cli = io(
      api.fetch,
      { SCANGATE_TOKEN: TOKEN },
      {
        signal: stop.signal,
        sleep: async (ms) => {
          sleeps.push(ms);
          polls++;
          if (polls === 1) stored = [event(4), event(3), ...stored];
          if (polls === 2) stored = [event(5), ...stored];
          if (polls === 3) stored = [event(7), event(6, { at: '2026-11-27T08:00:01.500Z' }), ...stored]; // a late commit with an older time
          if (polls === 5) stop.abort();
        },
      },
    );
    expect(await run(['audit', 'tail', '--follow', '--limit', '1'], cli.io)).toBe(0);
    expect(
      cli
        .out()
        .trim()
        .split('\n')
        .map((l) => /"n":(\d+)/.exec(l)![1]),
    ).toEqual(['2', '3', '4', '5', '6', '7']);
    expect(sleeps.every((ms) => ms === 2_000)).toBe(true);
    expect(cli.err()).toBe('');
  });

  it('--follow keeps following through a failed poll (unreachable, 5xx), and stops on an API refusal', async () => {
    let calls = 0;
    const api = fakeApi({
      'GET /api/v1/admin/audit-events': () => {
        calls++;
        if (calls === 2) throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
        if (calls === 3) return { status: 503, body: envelope('store.unavailable', 'The store is unavailable.') };
        if (calls === 4) return { status: 200, body: { items: [event(2), event(1)], nextCursor: null } };
        if (calls === 5) return { status: 403, body: envelope('auth.forbidden', 'Not allowed.') };
        return { status: 200, body: { items: [event(1)], nextCursor: null } };
      },
    });
    const cli = io(api.fetch, { SCANGATE_TOKEN: TOKEN }, { sleep: async () => undefined });
    expect(await run(['audit', 'tail', '-f'], cli.io)).toBe(1);
    expect(cli.out().trim().split('\n')).toHaveLength(2);
    expect(cli.err()).toMatch(/cannot reach http:\/\/localhost:3000: ECONNREFUSED \(still following\)/);
    expect(cli.err()).toMatch(/store.unavailable.*\(still following\)/);
    expect(cli.err()).toMatch(/error: auth.forbidden: Not allowed. \(HTTP 403, request req-1\)\n$/);
  });
});

describe('admin CLI: errors and credentials', () => {
  it('an API error: exit 1, its code, message, details and request id; never the token', async () => {
    const api = fakeApi({
      'GET /api/v1/admin/users': () => ({
        status: 400,
        body: envelope('validation.failed', `Bad query (token was ${TOKEN})`, {
          details: [{ path: 'status', message: 'must be active or disabled' }],
        }),
      }),
    });
    const cli = io(api.fetch);
    expect(await run(['users', 'list', '--status', 'gone'], cli.io)).toBe(1);
    expect(cli.err()).toBe(
      'error: validation.failed: Bad query (token was [redacted]) (HTTP 400, request req-1)\n  status: must be active or disabled\n',
    );
    expect(cli.out()).toBe('');
    const json = io(api.fetch);
    expect(await run(['users', 'list', '--json'], json.io)).toBe(1);
    expect(JSON.parse(json.err())).toMatchObject({ status: 400, code: 'validation.failed', requestId: 'req-1' });
    expect(json.err()).not.toContain(TOKEN);
  });

  it('the server unreachable, or answering something other than the protocol: exit 1 with one line', async () => {
    const down = io((async () => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    }) as unknown as typeof fetch);
    expect(await run(['users', 'list'], down.io)).toBe(1);
    expect(down.err()).toBe('error: cannot reach http://localhost:3000: ECONNREFUSED\n');
    const proxy = io(
      fakeApi({ 'GET /api/v1/admin/users': () => ({ status: 502, text: '<html>Bad Gateway</html>' }) }).fetch,
    );
    expect(await run(['users', 'list'], proxy.io)).toBe(1);
    expect(proxy.err()).toMatch(
      /^error: http_502: GET \/api\/v1\/admin\/users answered HTTP 502 without the error envelope/,
    );
  });

  it('--login/--password: signs in (a web session), uses that token, and signs out at the end', async () => {
    const api = fakeApi({
      'POST /api/v1/auth/login': () => ({
        status: 200,
        body: { accessToken: 'signed-in-access-token', expiresIn: 900, user: {} },
      }),
      'GET /api/v1/admin/users': () => ({ status: 200, body: { items: [], nextCursor: null } }),
      'POST /api/v1/auth/logout': () => ({ status: 204 }),
    });
    const cli = io(api.fetch, {});
    expect(await run(['--login', 'root', '--password', PASSWORD, 'users', 'list'], cli.io)).toBe(0);
    expect(api.seen.map((r) => `${r.method} ${r.path} ${r.auth}`)).toEqual([
      'POST /api/v1/auth/login null',
      'GET /api/v1/admin/users Bearer signed-in-access-token',
      'POST /api/v1/auth/logout Bearer signed-in-access-token',
    ]);
    expect(api.seen[0]!.body).toEqual({ login: 'root', password: PASSWORD });
    // After the command, --login and --password are the sign-in too (except for users create).
    const after = io(api.fetch, {});
    expect(await run(['users', 'list', '--login', 'root', '--password', PASSWORD], after.io)).toBe(0);
  });

  it('a wrong password: exit 1 with auth.invalid_credentials, the password never printed', async () => {
    const api = fakeApi({
      'POST /api/v1/auth/login': () => ({
        status: 401,
        body: envelope('auth.invalid_credentials', 'Wrong login or password.'),
      }),
    });
    const cli = io(api.fetch, { SCANGATE_LOGIN: 'root', SCANGATE_PASSWORD: PASSWORD });
    expect(await run(['users', 'list'], cli.io)).toBe(1);
    expect(cli.err()).toMatch(/^error: auth.invalid_credentials/);
    expect(cli.err()).not.toContain(PASSWORD);
  });

  it('auth.reauth_required: with a password it confirms it (POST /auth/reauth) and retries once; with a token only it says what to do', async () => {
    let recent = false;
    const routes: Record<string, Handler> = {
      'POST /api/v1/auth/login': () => ({ status: 200, body: { accessToken: 'fresh-token-0001' } }),
      'POST /api/v1/auth/reauth': (req) => {
        recent = (req.body as { password: string }).password === PASSWORD;
        return { status: 200, body: { reauthenticatedAt: '2026-11-27T08:00:00.000Z' } };
      },
      'PATCH /api/v1/admin/users/u1': () =>
        recent
          ? { status: 200, body: user({ id: 'u1', status: 'disabled' }) }
          : { status: 401, body: envelope('auth.reauth_required', 'Confirm your password first.') },
      'POST /api/v1/auth/logout': () => ({ status: 204 }),
    };
    const api = fakeApi(routes);
    const cli = io(api.fetch, { SCANGATE_TOKEN: TOKEN, SCANGATE_PASSWORD: PASSWORD });
    expect(await run(['users', 'disable', 'u1'], cli.io)).toBe(0);
    expect(api.seen.map((r) => `${r.method} ${r.path}`)).toEqual([
      'PATCH /api/v1/admin/users/u1',
      'POST /api/v1/auth/reauth',
      'PATCH /api/v1/admin/users/u1',
    ]);
    expect(api.seen[1]!.auth).toBe(`Bearer ${TOKEN}`);

    recent = false;
    const tokenOnly = io(fakeApi(routes).fetch);
    expect(await run(['users', 'disable', 'u1'], tokenOnly.io)).toBe(1);
    expect(tokenOnly.err()).toMatch(
      /auth.reauth_required.*\n {2}this action needs a recent sign-in: run it with --login and --password/,
    );
  });

  it('an expired token with a login and password at hand: signs in and retries once', async () => {
    let logins = 0;
    const api = fakeApi({
      'POST /api/v1/auth/login': () => ({ status: 200, body: { accessToken: `token-number-${++logins}` } }),
      'GET /api/v1/admin/users': (req) =>
        req.auth === 'Bearer token-number-1'
          ? { status: 200, body: { items: [], nextCursor: null } }
          : { status: 401, body: envelope('auth.unauthenticated', 'Expired.') },
      'POST /api/v1/auth/logout': () => ({ status: 204 }),
    });
    const cli = io(api.fetch, {
      SCANGATE_TOKEN: 'an-expired-access-token',
      SCANGATE_LOGIN: 'root',
      SCANGATE_PASSWORD: PASSWORD,
    });
    expect(await run(['users', 'list'], cli.io)).toBe(0);
    expect(logins).toBe(1);
    expect(api.seen.map((r) => `${r.method} ${r.path} ${r.auth}`)).toEqual([
      'GET /api/v1/admin/users Bearer an-expired-access-token',
      'POST /api/v1/auth/login null',
      'GET /api/v1/admin/users Bearer token-number-1',
      'POST /api/v1/auth/logout Bearer token-number-1',
    ]);
    // A token that keeps being refused is not retried for ever.
    const refused = fakeApi({
      'POST /api/v1/auth/login': () => ({ status: 200, body: { accessToken: 'always-refused-token' } }),
      'GET /api/v1/admin/users': () => ({ status: 401, body: envelope('auth.unauthenticated', 'No.') }),
      'POST /api/v1/auth/logout': () => ({ status: 401, body: envelope('auth.unauthenticated', 'No.') }),
    });
    const again = io(refused.fetch, {
      SCANGATE_TOKEN: 'an-expired-access-token',
      SCANGATE_LOGIN: 'root',
      SCANGATE_PASSWORD: PASSWORD,
    });
    expect(await run(['users', 'list'], again.io)).toBe(1);
    expect(refused.seen.filter((r) => r.path === '/api/v1/admin/users')).toHaveLength(2);
  });

  it("users create --login is the new user's login; the sign-in login goes before the command", async () => {
    const api = fakeApi({
      'POST /api/v1/auth/login': () => ({ status: 200, body: { accessToken: 'admin-signed-in-token' } }),
      'POST /api/v1/admin/users': () => ({ status: 201, body: user() }),
      'POST /api/v1/auth/logout': () => ({ status: 204 }),
    });
    const cli = io(api.fetch, {});
    expect(
      await run(
        ['--login', 'root', '--password', PASSWORD, 'users', 'create', '--login', 'lilei', '--display-name', 'Li Lei'],
        cli.io,
      ),
    ).toBe(0);
    expect(api.seen[0]!.body).toEqual({ login: 'root', password: PASSWORD });
    expect(api.seen[1]!.body).toEqual({ login: 'lilei', displayName: 'Li Lei' });
  });
});
