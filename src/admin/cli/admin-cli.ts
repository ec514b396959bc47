import { parseArgs } from 'node:util';
import { AdminApiClient, ApiError, TransportError, type Query } from './admin-api.client.js';
import type { Page } from '../common/admin-list.js';
import {
  auditLine,
  jsonLines,
  safeText,
  table,
  USER_HEADERS,
  userRow,
  type AuditRecord,
  type UserRecord,
  type Writer,
} from './output.js';

/** What the CLI touches of the world: given by the entry point, faked by tests. */
export interface CliIo {
  fetch: typeof fetch;
  stdout: Writer;
  stderr: Writer;
  env: Record<string, string | undefined>;
  /** All of standard input (for `--password-stdin`). */
  readStdin?: () => Promise<string>;
  /** Waits between polls of `audit tail --follow` (resolves early when `signal` aborts). */
  sleep?: (ms: number) => Promise<void>;
  /** Ends `--follow` (Ctrl-C; a test's end): the run then returns 0. */
  signal?: AbortSignal;
}

const EXIT_OK = 0;
const EXIT_API_ERROR = 1;
const EXIT_USAGE = 2;

const DEFAULT_URL = 'http://localhost:3000';
/** `audit tail --follow` polls this often. */
const FOLLOW_INTERVAL_MS = 2_000;

class UsageError extends Error {
  override name = 'UsageError';
}

type OptionSpec = { type: 'string' | 'boolean'; short?: string };

/** Accepted before the command, and after it (except where a command uses the name itself: `users create --login`). */
const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  url: { type: 'string' },
  token: { type: 'string' },
  login: { type: 'string' },
  password: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

type Values = Record<string, string | boolean | undefined>;

interface Context {
  api: AdminApiClient;
  opts: Values;
  args: string[];
  json: boolean;
  out: Writer;
  err: Writer;
  io: CliIo;
}

interface Command {
  name: string;
  /** Positional arguments after the command's name, e.g. `<id>`. */
  args: string[];
  options: Record<string, OptionSpec>;
  required?: string[];
  synopsis: string;
  summary: string;
  run(ctx: Context): Promise<void>;
}

const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const path = (...parts: string[]) => parts.map(encodeURIComponent).join('/');

const COMMANDS: Command[] = [
  {
    name: 'users list',
    args: [],
    options: {
      q: { type: 'string' },
      status: { type: 'string' },
      role: { type: 'string' },
      provider: { type: 'string' },
      'created-from': { type: 'string' },
      'created-to': { type: 'string' },
      sort: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
      all: { type: 'boolean' },
    },
    synopsis:
      'users list [--q <text>] [--status active|disabled] [--role <role>] [--provider <id>] [--created-from <iso>] [--created-to <iso>] [--sort <sort>] [--limit <n>] [--cursor <c>] [--all]',
    summary: 'search users; one page (--limit, default 50), or every page with --all',
    async run({ api, opts, json, out, err }) {
      const all = opts.all === true;
      const query: Query = {
        q: str(opts.q),
        status: str(opts.status),
        role: str(opts.role),
        provider: str(opts.provider),
        createdFrom: str(opts['created-from']),
        createdTo: str(opts['created-to']),
        sort: str(opts.sort),
        limit: str(opts.limit) ?? (all ? '200' : undefined),
        cursor: str(opts.cursor),
      };
      const users: UserRecord[] = [];
      for (;;) {
        const page = await api.request<Page<UserRecord>>('GET', '/api/v1/admin/users', { query });
        if (json) out.write(jsonLines(page.items));
        else users.push(...page.items);
        if (!all || !page.nextCursor) {
          if (!json) out.write(table(USER_HEADERS, users.map(userRow)));
          if (!all && page.nextCursor) err.write(`more users: add --cursor ${page.nextCursor} (or --all)\n`);
          return;
        }
        query.cursor = page.nextCursor;
      }
    },
  },
  {
    name: 'users create',
    args: [],
    options: {
      login: { type: 'string' },
      'display-name': { type: 'string' },
      'password-stdin': { type: 'boolean' },
      roles: { type: 'string' },
    },
    required: ['login', 'display-name'],
    synopsis: 'users create --login <login> --display-name <name> [--password-stdin] [--roles user,admin,auditor]',
    summary: 'create a user (without --password-stdin it signs in only through a provider)',
    async run({ api, opts, json, out, io }) {
      let password: string | undefined;
      if (opts['password-stdin'] === true) {
        if (!io.readStdin) throw new UsageError('--password-stdin: no standard input here');
        password = (await io.readStdin()).replace(/\r?\n$/, '');
        if (password.length === 0) throw new UsageError('--password-stdin: standard input held no password');
      }
      const roles = str(opts.roles)
        ?.split(',')
        .map((r) => r.trim())
        .filter((r) => r.length > 0);
      const user = await api.request<UserRecord>('POST', '/api/v1/admin/users', {
        body: {
          login: str(opts.login),
          displayName: str(opts['display-name']),
          ...(password !== undefined ? { password } : {}),
          ...(roles ? { roles } : {}),
        },
      });
      out.write(json ? jsonLines([user]) : table(USER_HEADERS, [userRow(user)]));
    },
  },
  {
    name: 'users disable',
    args: ['id'],
    options: {},
    synopsis: 'users disable <id>',
    summary: 'disable a user: every session of theirs is refused at once',
    run: (ctx) => setStatus(ctx, 'disabled'),
  },
  {
    name: 'users enable',
    args: ['id'],
    options: {},
    synopsis: 'users enable <id>',
    summary: 'enable a disabled user again (revoked sessions stay revoked)',
    run: (ctx) => setStatus(ctx, 'active'),
  },
  {
    name: 'sessions revoke',
    args: ['sessionId'],
    options: { user: { type: 'string' } },
    required: ['user'],
    synopsis: 'sessions revoke <sessionId> --user <userId>',
    summary: "revoke one of a user's sessions",
    async run({ api, opts, args, json, out }) {
      const [userId, sessionId] = [str(opts.user)!, args[0]!];
      const body = await api.request('DELETE', `/api/v1/admin/users/${path(userId, 'sessions', sessionId)}`);
      out.write(
        json
          ? jsonLines([{ userId, sessionId, revoked: true, ...asObject(body) }])
          : `Revoked session ${safeText(sessionId)} of user ${safeText(userId)}.\n`,
      );
    },
  },
  {
    name: 'sessions revoke-all',
    args: [],
    options: { user: { type: 'string' } },
    required: ['user'],
    synopsis: 'sessions revoke-all --user <userId>',
    summary: 'revoke every session of a user',
    async run({ api, opts, json, out }) {
      const userId = str(opts.user)!;
      const body = asObject(await api.request('DELETE', `/api/v1/admin/users/${path(userId, 'sessions')}`));
      const count = typeof body.revoked === 'number' ? ` (${body.revoked})` : '';
      out.write(
        json
          ? jsonLines([{ userId, revoked: true, ...body }])
          : `Revoked every session of user ${safeText(userId)}${count}.\n`,
      );
    },
  },
  {
    name: 'audit tail',
    args: [],
    options: {
      follow: { type: 'boolean', short: 'f' },
      type: { type: 'string' },
      user: { type: 'string' },
      limit: { type: 'string' },
    },
    synopsis: 'audit tail [--follow] [--type <type>] [--user <userId>] [--limit <n>]',
    summary: `the latest audit events (default 20), newest last; --follow polls every ${FOLLOW_INTERVAL_MS / 1000} s for new ones`,
    run: auditTail,
  },
];

async function setStatus({ api, args, json, out }: Context, status: 'active' | 'disabled'): Promise<void> {
  const user = await api.request<UserRecord>('PATCH', `/api/v1/admin/users/${path(args[0]!)}`, { body: { status } });
  if (json) out.write(jsonLines([user]));
  else
    out.write(
      `User ${safeText(user.login)} (${safeText(user.id)}) is now ${safeText(user.status)}${status === 'disabled' ? '; every session of theirs is refused' : ''}.\n`,
    );
}

function asObject(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

/** Ids printed, most recent last, bounded (a page holds at most 200: far more than any poll brings). */
class Seen {
  private readonly ids = new Set<string>();
  constructor(private readonly max = 5_000) {}
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value!);
  }
  get size(): number {
    return this.ids.size;
  }
}

/** Pages read per poll at most: a burst bigger than this many pages is cut (and said so). */
const MAX_FOLLOW_PAGES = 10;

/**
 * `audit tail`: the latest events, newest last. `--follow` polls the first
 * page (newest first) and reads on while a page holds no event already
 * printed; every event not printed yet is printed, oldest first. A whole page
 * is always read, so an event committed late with an earlier time is not missed.
 */
async function auditTail({ api, opts, json, out, err, io }: Context): Promise<void> {
  const filters: Query = { type: str(opts.type), userId: str(opts.user) };
  const print = (events: AuditRecord[]) => out.write(json ? jsonLines(events) : events.map(auditLine).join(''));
  const limit = str(opts.limit) ?? '20';
  const follow = opts.follow === true;
  // Following, the first page is read whole (200) and counted as seen, so a poll never mistakes an event older than those printed for a new one.
  const first = await api.request<Page<AuditRecord>>('GET', '/api/v1/admin/audit-events', {
    query: { ...filters, limit: follow ? 200 : limit },
  });
  const seen = new Seen();
  for (const e of first.items) seen.add(e.id);
  const shown = follow && /^\d+$/.test(limit) ? first.items.slice(0, Number(limit)) : first.items;
  print([...shown].reverse());
  if (!follow) return;

  const sleep = io.sleep ?? ((ms: number) => abortableSleep(ms, io.signal));
  while (!io.signal?.aborted) {
    await sleep(FOLLOW_INTERVAL_MS);
    if (io.signal?.aborted) break;
    try {
      const fresh: AuditRecord[] = [];
      let cursor: string | undefined;
      for (let pages = 0; ; pages++) {
        const page = await api.request<Page<AuditRecord>>('GET', '/api/v1/admin/audit-events', {
          query: { ...filters, limit: 200, cursor },
        });
        fresh.push(...page.items.filter((e) => !seen.has(e.id)));
        const reachedKnown = page.items.some((e) => seen.has(e.id));
        if (reachedKnown || !page.nextCursor) break;
        if (pages + 1 >= MAX_FOLLOW_PAGES && seen.size > 0) {
          err.write(`more than ${MAX_FOLLOW_PAGES * 200} new events since the last poll: older ones skipped\n`);
          break;
        }
        cursor = page.nextCursor;
      }
      for (const e of fresh) seen.add(e.id);
      if (fresh.length > 0) print(fresh.reverse());
    } catch (error) {
      if (io.signal?.aborted) break;
      if (
        error instanceof TransportError ||
        (error instanceof ApiError && (error.status >= 500 || error.status === 429))
      ) {
        err.write(`${describe(error)} (still following)\n`);
        continue;
      }
      throw error;
    }
  }
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((done) => {
    if (signal?.aborted) return done();
    const timer = setTimeout(finish, ms);
    signal?.addEventListener('abort', finish, { once: true });
    function finish() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      done();
    }
  });
}

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: npm run admin -- [--url <url>] [--token <token> | --login <login> --password <password>] [--json] <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    ...COMMANDS.map((c) => `  ${c.synopsis}`),
    '',
    'The server: --url or SCANGATE_URL (default http://localhost:3000). Credentials: an admin access token',
    '(--token or SCANGATE_TOKEN), or a login and password (--login/--password or SCANGATE_LOGIN/SCANGATE_PASSWORD)',
    'to sign in with, which also confirm the password when an action needs a recent sign-in. Put --login',
    'before the command for "users create" (after it, it is the new user\'s login).',
    'Output: a table, or one JSON object per line with --json. Exit codes: 0 ok, 1 API error, 2 usage.',
    '',
  ].join('\n');
}

/** Every option any command takes, for one strict parse (each name has one type everywhere). */
function allOptions(): Record<string, OptionSpec> {
  const all: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS };
  for (const command of COMMANDS) Object.assign(all, command.options);
  return all;
}

interface Parsed {
  command: Command | null;
  help: boolean;
  globals: Values;
  opts: Values;
  args: string[];
}

function parse(argv: string[]): Parsed {
  let tokens;
  try {
    ({ tokens } = parseArgs({
      args: argv,
      options: allOptions() as never,
      allowPositionals: true,
      strict: true,
      tokens: true,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]!.replace(/\. To specify.*$/, '.'));
  }
  const positionals = tokens.filter((t) => t.kind === 'positional');
  const commandStart = positionals[0]?.index ?? Number.POSITIVE_INFINITY;
  const words = positionals.map((t) => (t as { value: string }).value);
  const command = words.length >= 2 ? (COMMANDS.find((c) => c.name === `${words[0]} ${words[1]}`) ?? null) : null;
  const globals: Values = {};
  const opts: Values = {};
  let help = false;
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const value = token.value ?? true;
    if (token.name === 'help') {
      help = true;
      continue;
    }
    if (token.index < commandStart) {
      if (!(token.name in GLOBAL_OPTIONS)) throw new UsageError(`--${token.name} goes after the command it belongs to`);
      globals[token.name] = value;
      continue;
    }
    if (command && token.name in command.options) opts[token.name] = value;
    else if (command && 'login' in command.options && token.name === 'password') {
      throw new UsageError(
        `"${command.name}" reads the new password with --password-stdin; to sign in with a password, put --login and --password before the command`,
      );
    } else if (token.name in GLOBAL_OPTIONS) globals[token.name] = value;
    else if (command) throw new UsageError(`"${command.name}" takes no --${token.name}`);
  }
  if (help) return { command, help, globals, opts, args: [] };
  if (words.length === 0) throw new UsageError('no command');
  if (!command) throw new UsageError(`unknown command "${words.slice(0, 2).join(' ')}"`);
  const args = words.slice(2);
  if (args.length !== command.args.length) {
    throw new UsageError(
      `"${command.name}" takes ${command.args.length === 0 ? 'no arguments' : command.args.map((a) => `<${a}>`).join(' ')}: usage: ${command.synopsis}`,
    );
  }
  const limit = opts.limit;
  if (typeof limit === 'string' && !(/^\d{1,3}$/.test(limit) && Number(limit) >= 1 && Number(limit) <= 200))
    throw new UsageError('--limit is a whole number from 1 to 200');
  for (const name of command.required ?? []) {
    if (typeof opts[name] !== 'string' || opts[name] === '')
      throw new UsageError(`"${command.name}" needs --${name}: usage: ${command.synopsis}`);
  }
  return { command, help, globals, opts, args };
}

/** The server's base URL, without a trailing slash. */
function baseUrlOf(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`the server URL "${raw}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`the server URL "${raw}" is not http(s)`);
  if (url.username || url.password || url.search || url.hash)
    throw new UsageError('the server URL takes no credentials, query or fragment');
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/** An error as one line for people (never a credential: errors are built without them). */
function describe(error: unknown): string {
  if (error instanceof ApiError) {
    const { code, message, requestId, details } = error.envelope;
    const lines = [`error: ${code}: ${message} (HTTP ${error.status}${requestId ? `, request ${requestId}` : ''})`];
    for (const d of details ?? []) lines.push(`  ${d.path}: ${d.message}`);
    if (code === 'auth.reauth_required')
      lines.push(
        '  this action needs a recent sign-in: run it with --login and --password (they confirm the password), or a fresh token',
      );
    return lines.map(safeText).join('\n');
  }
  return `error: ${safeText((error as Error)?.message ?? String(error))}`;
}

/** Writes through `writer`, with each of `secrets()` (8+ characters) replaced: no credential is ever printed. */
function redacting(writer: Writer, secrets: () => string[]): Writer {
  return {
    write(text: string) {
      let out = text;
      for (const secret of secrets()) if (secret.length >= 8) out = out.split(secret).join('[redacted]');
      return writer.write(out);
    },
  };
}

/**
 * `npm run admin -- …`: a client of the admin API over HTTP. Returns the exit
 * code: 0 ok, 1 the API answered an error (its code and message printed) or
 * could not be reached, 2 a usage error.
 */
export async function run(argv: string[], io: CliIo): Promise<number> {
  let api: AdminApiClient | undefined;
  const secrets = () => [...(api?.secrets() ?? []), io.env.SCANGATE_TOKEN ?? '', io.env.SCANGATE_PASSWORD ?? ''];
  const out = redacting(io.stdout, secrets);
  const err = redacting(io.stderr, secrets);
  let json = false;
  try {
    const parsed = parse(argv);
    json = parsed.globals.json === true;
    if (parsed.help) {
      out.write(
        parsed.command ? `usage: npm run admin -- ${parsed.command.synopsis}\n  ${parsed.command.summary}\n` : usage(),
      );
      return EXIT_OK;
    }
    const command = parsed.command!;
    const baseUrl = baseUrlOf(str(parsed.globals.url) ?? io.env.SCANGATE_URL ?? DEFAULT_URL);
    const token = str(parsed.globals.token) ?? (io.env.SCANGATE_TOKEN || undefined);
    const login = str(parsed.globals.login) ?? (io.env.SCANGATE_LOGIN || undefined);
    const password = str(parsed.globals.password) ?? (io.env.SCANGATE_PASSWORD || undefined);
    if (login !== undefined && password === undefined)
      throw new UsageError('--login needs --password (or SCANGATE_PASSWORD)');
    if (token === undefined && login === undefined) {
      throw new UsageError(
        'no credentials: give an admin access token (--token or SCANGATE_TOKEN), or --login and --password',
      );
    }
    api = new AdminApiClient(baseUrl, { token, login, password }, io.fetch, io.signal);
    try {
      await command.run({ api, opts: parsed.opts, args: parsed.args, json, out, err, io });
    } finally {
      await api.close();
    }
    return EXIT_OK;
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`admin: ${error.message}\n(npm run admin -- --help for the commands)\n`);
      return EXIT_USAGE;
    }
    if (io.signal?.aborted && (error as Error)?.name === 'AbortError') return EXIT_OK;
    if (json && error instanceof ApiError)
      err.write(`${JSON.stringify({ status: error.status, ...error.envelope })}\n`);
    else err.write(`${describe(error)}\n`);
    return EXIT_API_ERROR;
  }
}
