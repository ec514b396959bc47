import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { run, type CliIo } from '../../src/admin/cli/admin-cli.js';
import { Clock } from '../../src/common/clock/clock.js';
import { auditRows, db } from '../support/rows.js';
import { NO_LOGIN_LIMITS, testConfig } from '../support/test-config.js';
import { bearer, createUser, loginMobile, loginWeb, TEST_PASSWORD } from '../support/accounts.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { FakeClock } from '../support/fake-clock.js';

/**
 * `npm run admin` end to end: `run()` (what the entry point calls) against a
 * real test app over real HTTP, as an operator would use it. Routes are the
 * ones of PROTOCOL.md § Operators: users list, sessions revoke and audit
 * events are asserted on their protocol shapes.
 */

interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI against `url` with exactly `env` (plus the URL) and `extra`. */
async function runCli(
  url: string,
  argv: string[],
  env: Record<string, string>,
  extra: Partial<CliIo> = {},
): Promise<CliResult> {
  let out = '';
  let err = '';
  const code = await run(argv, {
    fetch,
    env: { SCANGATE_URL: url, ...env },
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    ...extra,
  });
  return { code, out, err };
}

describe('admin CLI against a running ScanGate', () => {
  let t: TestApp;
  let admin: { id: string; login: string; token: string; sessionId: string };
  const unique = (prefix: string) => `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

  beforeAll(async () => {
    t = await createTestApp({ config: testConfig({ DEMO_USER: 'off', ...NO_LOGIN_LIMITS }) });
    const created = await createUser(t, { roles: ['admin'], login: unique('cliadmin') });
    const session = await loginWeb(t, created.login);
    admin = { id: created.user.id, login: created.login, token: session.accessToken, sessionId: session.sessionId };
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Runs the CLI as the admin (token in SCANGATE_TOKEN), with `env` and `extra` added. */
  const cli = (argv: string[], env: Record<string, string> = {}, extra: Partial<CliIo> = {}) =>
    runCli(t.url, argv, { SCANGATE_TOKEN: admin.token, ...env }, extra);
  const jsonLines = (text: string) =>
    text
      .trim()
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const ok = (r: CliResult) => {
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    return r;
  };

  it('users create: creates a user with the password read from stdin, who can then sign in; table and JSON output', async () => {
    const login = unique('clinew');
    const password = 'a passphrase from standard input';
    const table = ok(
      await cli(
        ['users', 'create', '--login', login, '--display-name', 'Cli New', '--password-stdin', '--roles', 'user'],
        {},
        { readStdin: async () => `${password}\n` },
      ),
    );
    expect(table.out).toMatch(/^ID\s+LOGIN\s+DISPLAY NAME\s+STATUS\s+ROLES\s+CREATED\n/);
    expect(table.out).toMatch(
      new RegExp(`\\n[0-9a-f-]{36}\\s+${login.toLowerCase()}\\s+Cli New\\s+active\\s+user\\s+\\d{4}-`),
    );
    expect(table.out).not.toContain(password);
    await request(t.url).post('/api/v1/auth/login').send({ login, password }).expect(200);

    const json = ok(
      await cli(['--json', 'users', 'create', '--login', unique('clijson'), '--display-name', 'Cli Json']),
    );
    expect(jsonLines(json.out)).toEqual([
      expect.objectContaining({ id: expect.any(String), displayName: 'Cli Json', status: 'active', roles: ['user'] }),
    ]);
  });

  it("an API error: exit 1 with the envelope's code and message, never the token", async () => {
    const taken = await cli(['users', 'create', '--login', admin.login, '--display-name', 'Duplicate']);
    expect(taken.code).toBe(1);
    expect(taken.err).toMatch(/^error: conflict: .+ \(HTTP 409, request [\w-]+\)\n {2}login: already taken\n$/);
    expect(taken.out).toBe('');
    const { login } = await createUser(t, { roles: ['user'] });
    const plain = (await loginWeb(t, login)).accessToken;
    const forbidden = await cli(['users', 'disable', admin.id], { SCANGATE_TOKEN: plain });
    expect(forbidden.code).toBe(1);
    expect(forbidden.err).toMatch(/^error: auth\.forbidden: /);
    const unreachable = await cli(['users', 'disable', admin.id], { SCANGATE_URL: 'http://127.0.0.1:9' });
    expect(unreachable).toEqual({
      code: 1,
      out: '',
      err: expect.stringMatching(/^error: cannot reach http:\/\/127\.0\.0\.1:9: /),
    });
    for (const r of [taken, forbidden, unreachable]) expect(r.out + r.err).not.toContain(admin.token);
    expect(forbidden.out + forbidden.err).not.toContain(plain);
  });

  it("users disable: the user's open session is refused on its next request and sign-in is refused; users enable lets them sign in again", async () => {
    const { user, login } = await createUser(t, { roles: ['user'] });
    const phone = await loginMobile(t, login);
    await request(t.url).get('/api/v1/me').set(bearer(phone.accessToken)).expect(200);

    const disabled = ok(await cli(['users', 'disable', user.id]));
    expect(disabled.out).toBe(
      `User ${login.toLowerCase()} (${user.id}) is now disabled; every session of theirs is refused.\n`,
    );
    const refused = await request(t.url).get('/api/v1/me').set(bearer(phone.accessToken));
    expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 401, code: 'auth.unauthenticated' });
    expect((await request(t.url).post('/api/v1/auth/login').send({ login, password: TEST_PASSWORD })).body.code).toBe(
      'auth.account_disabled',
    );

    const enabled = ok(await cli(['--json', 'users', 'enable', user.id]));
    expect(jsonLines(enabled.out)).toEqual([expect.objectContaining({ id: user.id, status: 'active' })]);
    await request(t.url).post('/api/v1/auth/login').send({ login, password: TEST_PASSWORD }).expect(200);
    // Revoked sessions never come back.
    expect((await request(t.url).get('/api/v1/me').set(bearer(phone.accessToken))).status).toBe(401);
  });

  it('--login/--password: signs in by itself, acts, and signs its own session out at the end', async () => {
    const { user } = await createUser(t, { roles: ['user'] });
    const before = (await db(t).query(`SELECT id FROM sessions WHERE user_id = $1`, [admin.id])) as Array<{
      id: string;
    }>;
    const r = ok(
      await cli(['--login', admin.login, '--password', TEST_PASSWORD, 'users', 'disable', user.id], {
        SCANGATE_TOKEN: '',
      }),
    );
    expect(r.out).toMatch(/is now disabled/);
    expect(r.out + r.err).not.toContain(TEST_PASSWORD);
    const after = (await db(t).query(
      `SELECT id, revoked_at FROM sessions WHERE user_id = $1 AND NOT (id = ANY($2::uuid[]))`,
      [admin.id, before.map((s) => s.id)],
    )) as Array<{
      id: string;
      revoked_at: Date | null;
    }>;
    expect(after).toHaveLength(1);
    expect(after[0]!.revoked_at).not.toBeNull();
  });

  // ——— Routes of PROTOCOL.md § Operators that other resources provide (users list, sessions, audit events). ———

  it('users list: finds users by --q, as a table and as JSON lines; --all reads every page', async () => {
    const tag = unique('clilist');
    const made = [];
    for (let i = 0; i < 3; i++)
      made.push((await createUser(t, { login: `${tag}${i}`, displayName: `Listed ${i}` })).user);
    const table = ok(await cli(['users', 'list', '--q', tag]));
    const rows = table.out.trim().split('\n');
    expect(rows[0]).toMatch(/^ID\s+LOGIN\s+DISPLAY NAME\s+STATUS\s+ROLES\s+CREATED$/);
    expect(
      rows
        .slice(1)
        .map((row) => row.split(/\s{2,}/)[0])
        .sort(),
    ).toEqual(made.map((u) => u.id).sort());

    const paged = await cli(['--json', 'users', 'list', '--q', tag, '--limit', '2', '--sort', 'login']);
    expect(paged.code).toBe(0);
    expect(jsonLines(paged.out).map((u) => u.login)).toEqual([`${tag}0`, `${tag}1`]);
    expect(paged.err).toMatch(/^more users: add --cursor \S+ \(or --all\)\n$/);

    const all = ok(await cli(['--json', 'users', 'list', '--q', tag, '--limit', '2', '--sort', 'login', '--all']));
    expect(jsonLines(all.out).map((u) => u.login)).toEqual([`${tag}0`, `${tag}1`, `${tag}2`]);
    expect(jsonLines(all.out)[0]).toEqual({
      id: made[0]!.id,
      login: `${tag}0`,
      displayName: 'Listed 0',
      avatarUrl: null,
      status: 'active',
      roles: ['user'],
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });

    const disabled = ok(await cli(['--json', 'users', 'list', '--q', tag, '--status', 'disabled']));
    expect(disabled.out).toBe('');
  });

  it('sessions revoke: one session is refused at once, the others not; revoke-all refuses the rest', async () => {
    const { user, login } = await createUser(t);
    const [a, b, c] = [await loginMobile(t, login), await loginMobile(t, login), await loginWeb(t, login)];
    const me = (token: string) => request(t.url).get('/api/v1/me').set(bearer(token));

    const one = ok(await cli(['sessions', 'revoke', a.sessionId, '--user', user.id]));
    expect(one.out).toBe(`Revoked session ${a.sessionId} of user ${user.id}.\n`);
    expect((await me(a.accessToken)).status).toBe(401);
    expect((await me(b.accessToken)).status).toBe(200);

    const all = ok(await cli(['--json', 'sessions', 'revoke-all', '--user', user.id]));
    expect(jsonLines(all.out)).toEqual([expect.objectContaining({ userId: user.id, revoked: true })]);
    expect((await me(b.accessToken)).status).toBe(401);
    expect((await me(c.accessToken)).status).toBe(401);

    const unknown = await cli(['sessions', 'revoke', '00000000-0000-4000-8000-000000000000', '--user', user.id]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/^error: not_found: /);
  });

  it('audit tail: the events of what was just done, newest last, filtered by user and type; --follow prints new ones as they come', async () => {
    const { user } = await createUser(t);
    ok(await cli(['users', 'disable', user.id]));
    ok(await cli(['users', 'enable', user.id]));

    const tail = ok(await cli(['--json', 'audit', 'tail', '--user', user.id, '--type', 'user.updated']));
    const events = jsonLines(tail.out);
    expect(events).toHaveLength(2);
    expect(events.map((e) => (e.detail as { changes: { status: { after: string } } }).changes.status.after)).toEqual([
      'disabled',
      'active',
    ]);
    expect(events[1]).toMatchObject({ type: 'user.updated', actorId: admin.id, userId: user.id });
    const rows = await auditRows(t, `user_id = $1 AND type = 'user.updated'`, [user.id]);
    expect(events.map((e) => e.id)).toEqual(rows.map((r) => r.id));

    const human = ok(await cli(['audit', 'tail', '--user', user.id, '--limit', '1']));
    expect(human.out).toMatch(
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z  user\\.updated  actor=${admin.id}  user=${user.id}  ip=\\S+  \\{.*"active".*\\}\\n$`,
      ),
    );

    // --follow: a poll after each action prints exactly the new events, then the run ends (exit 0) when stopped.
    const stop = new AbortController();
    let polls = 0;
    const following = cli(
      ['--json', 'audit', 'tail', '--follow', '--user', user.id, '--limit', '1'],
      {},
      {
        signal: stop.signal,
        sleep: async () => {
          polls++;
          if (polls === 1) ok(await cli(['users', 'disable', user.id]));
          if (polls === 2) ok(await cli(['users', 'enable', user.id]));
          if (polls === 3) stop.abort();
        },
      },
    );
    const followed = ok(await following);
    const seen = jsonLines(followed.out);
    expect(seen.map((e) => (e.detail as { changes?: { status?: { after: string } } }).changes?.status?.after)).toEqual([
      'active',
      'disabled',
      'active',
    ]);
  });
});

describe('admin CLI and a sign-in too old for a destructive action', () => {
  const clock = new FakeClock(Date.now());
  let t: TestApp;
  let admin: { id: string; login: string; token: string };

  beforeAll(async () => {
    t = await createTestApp({
      config: testConfig({ DEMO_USER: 'off', REAUTH_MAX_AGE_SECONDS: '30', ...NO_LOGIN_LIMITS }),
      override: (b) => b.overrideProvider(Clock).useValue(clock),
    });
    const created = await createUser(t, { roles: ['admin'] });
    admin = { id: created.user.id, login: created.login, token: (await loginWeb(t, created.login)).accessToken };
  });
  afterAll(async () => {
    await t?.close();
  });

  it('with a token only: exit 1 auth.reauth_required and what to do; with the password at hand: confirms it (POST /auth/reauth) and goes on', async () => {
    const { user, login } = await createUser(t);
    const phone = await loginMobile(t, login);
    clock.advance(60_000);

    const refused = await runCli(t.url, ['sessions', 'revoke-all', '--user', user.id], { SCANGATE_TOKEN: admin.token });
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(
      /^error: auth\.reauth_required: .*\(HTTP 401, request [\w-]+\)\n {2}this action needs a recent sign-in: run it with --login and --password/,
    );
    expect((await request(t.url).get('/api/v1/me').set(bearer(phone.accessToken))).status).toBe(200);

    const done = await runCli(t.url, ['sessions', 'revoke-all', '--user', user.id], {
      SCANGATE_TOKEN: admin.token,
      SCANGATE_PASSWORD: TEST_PASSWORD,
    });
    expect(done).toEqual({ code: 0, out: `Revoked every session of user ${user.id}.\n`, err: '' });
    expect((await request(t.url).get('/api/v1/me').set(bearer(phone.accessToken))).status).toBe(401);
    expect(await auditRows(t, `type = 'auth.reauthenticated' AND user_id = $1`, [admin.id])).toHaveLength(1);
    expect(refused.err + done.err + done.out).not.toContain(admin.token);
  });
});
