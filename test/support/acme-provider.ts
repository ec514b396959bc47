import { createServer, type Server } from 'node:http';
import { z } from 'zod';
import { PROVIDER_ENV, type OAuthProviderId, type ProviderEnv } from '../../src/config/index.js';
import {
  OAuthProviderError,
  type OAuthCallback,
  type OAuthProfile,
  type OAuthProvider,
  type ProviderDefinition,
} from '../../src/oauth/oauth-provider.js';
import { maskSecret } from '../../src/oauth/settings-view.js';
import type { UpstreamHttp } from '../../src/oauth/upstream.http.js';

/**
 * "Acme", a provider ScanGate does not ship, added the documented way and no
 * other: what its folder would hold (settings, provider class, definition),
 * its configuration entry (as in `config/oauth-providers.env.ts`) and the
 * registry's list with it appended. Its platform is `AcmePlatform`, a small
 * OAuth2 server: code → token (with the client secret) → profile.
 */

interface AcmeSettings {
  clientId: string;
  clientSecret: string;
  base: string;
}

/** Its configuration entry. */
export const ACME_ENV: ProviderEnv<Record<string, z.ZodType>, AcmeSettings> = {
  variables: {
    ACME_CLIENT_ID: z
      .string()
      .regex(/^[a-z0-9-]{1,32}$/, { error: 'expected an Acme client id' })
      .optional(),
    ACME_CLIENT_SECRET: z.string().min(1).optional(),
    ACME_BASE: z.string().default('https://acme.example'),
  },
  credentials: { required: ['ACME_CLIENT_ID', 'ACME_CLIENT_SECRET'] },
  settings: (env) => ({
    clientId: env.ACME_CLIENT_ID as string,
    clientSecret: env.ACME_CLIENT_SECRET as string,
    base: env.ACME_BASE as string,
  }),
};

/** The providers' configuration entries with Acme's: what `parseConfig` is given. */
export const PROVIDER_ENV_WITH_ACME = { ...PROVIDER_ENV, acme: ACME_ENV };

const Token = z.object({ access_token: z.string().min(1) });
const Profile = z.object({ id: z.string().min(1), name: z.string() });

class AcmeProvider implements OAuthProvider {
  readonly id = 'acme' as OAuthProviderId;
  readonly names = ACME.names;

  constructor(
    private readonly settings: AcmeSettings,
    private readonly http: UpstreamHttp,
  ) {}

  authorizationUrl({ state, redirectUri }: { state: string; redirectUri: string }): string {
    const query = new URLSearchParams({ client_id: this.settings.clientId, redirect_uri: redirectUri, state });
    return `${this.settings.base}/authorize?${query.toString()}`;
  }

  readCallback(query: Record<string, unknown>): OAuthCallback {
    const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
    return { code: text(query.code), state: text(query.state) };
  }

  async profile(code: string): Promise<OAuthProfile> {
    const token = await this.json(`${this.settings.base}/token`, Token, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: this.settings.clientId, client_secret: this.settings.clientSecret, code }),
    });
    const me = await this.json(`${this.settings.base}/me`, Profile, {
      headers: { authorization: `Bearer ${token.access_token}` },
    });
    return {
      subject: me.id,
      subjectKind: 'acme_id',
      displayName: me.name,
      avatarUrl: null,
      profile: { name: me.name },
    };
  }

  private async json<T extends z.ZodType>(
    url: string,
    schema: T,
    init: Parameters<UpstreamHttp['request']>[1],
  ): Promise<z.infer<T>> {
    const { status, text } = await this.http.request(url, init);
    if (status === 400) throw new OAuthProviderError('code_invalid', 'Acme refused the code');
    const parsed = status === 200 ? schema.safeParse(JSON.parse(text)) : undefined;
    if (!parsed?.success) throw new OAuthProviderError('upstream', `Acme answered ${status}`);
    return parsed.data;
  }
}

/** Its definition, as its folder would export it for the registry's list. */
export const ACME: ProviderDefinition<AcmeSettings> = {
  id: 'acme' as OAuthProviderId,
  names: { en: 'Acme', 'zh-CN': '艾克米' },
  build: (settings, { http }) => new AcmeProvider(settings, http),
  view: (s) => ({ clientId: s.clientId, clientSecret: maskSecret(s.clientSecret), base: s.base }),
  secrets: (s) => [s.clientSecret],
};

/** Acme's platform: one person (`acme-42`, "Wile E."), codes good once, the client secret checked. */
export class AcmePlatform {
  private server?: Server;
  private readonly codes = new Set<string>();
  url = '';

  constructor(private readonly clientSecret: string) {}

  /** A code the person's approval would bring back. */
  issueCode(): string {
    const code = `code-${this.codes.size + 1}-${Math.random().toString(36).slice(2)}`;
    this.codes.add(code);
    return code;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const reply = (status: number, value: unknown) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
        if (req.method === 'POST' && req.url === '/token') {
          const { code, client_secret } = JSON.parse(body || '{}') as { code?: string; client_secret?: string };
          if (client_secret !== this.clientSecret) return reply(401, { error: 'invalid_client' });
          if (!code || !this.codes.delete(code)) return reply(400, { error: 'invalid_grant' });
          return reply(200, { access_token: `token-for-${code}` });
        }
        if (req.method === 'GET' && req.url === '/me' && req.headers.authorization?.startsWith('Bearer token-for-'))
          return reply(200, { id: 'acme-42', name: 'Wile E.' });
        return reply(404, { error: 'not_found' });
      });
    });
    await new Promise<void>((done) => this.server!.listen(0, '127.0.0.1', done));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((done) => this.server?.close(done));
  }
}
