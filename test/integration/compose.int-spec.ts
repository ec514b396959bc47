import { describe, it, expect } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/config.loader.js';
import { EnvSchema } from '../../src/config/env.schema.js';

/**
 * The deployment files (docker-compose.yml, deploy/nginx/nginx.conf, Dockerfile) cannot be
 * run here (no Docker engine), so this suite checks what makes them work: the replicas are
 * identical and configured with names the app knows, in a way its production checks accept;
 * they reach Postgres and Redis by service name and wait for them; every mounted file
 * exists; nginx is sticky, passes WebSocket upgrades and outlasts the long polls. When a
 * compose CLI is installed, `config -q` validates the file as well.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COMPOSE_FILE = resolve(ROOT, 'docker-compose.yml');
const REPLICAS = ['scangate-1', 'scangate-2'] as const;

type Service = {
  build?: string | { context?: string; dockerfile?: string };
  image?: string;
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  volumes?: Array<string | { type?: string; source?: string; target?: string }>;
  ports?: Array<string | number | { target?: number; published?: string | number }>;
  networks?: string[] | Record<string, unknown>;
  restart?: string;
  stop_grace_period?: string;
  [key: string]: unknown;
};
type ComposeFile = {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  networks?: Record<string, unknown>;
  [key: string]: unknown;
};

/** The one setting a deployer must give (it has no safe default): the signing keys' encryption key. */
const DEPLOYER_ENV = { SIGNING_KEYS_SECRET: randomBytes(32).toString('base64') };

/**
 * Compose's variable substitution with an empty environment, so every `${VAR:-default}` takes
 * its default: the configuration a plain `docker compose up` gets.
 */
function interpolate(value: string, env: Record<string, string> = {}): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, braced, op, arg, bare) => {
      if (match === '$$') return '$';
      const name = (braced ?? bare) as string;
      const set = env[name];
      const missing = op?.startsWith(':') ? !set : set === undefined;
      if (!missing) return set!;
      if (op === ':-' || op === '-') return arg as string;
      if (op === ':?' || op === '?') throw new Error(`${name} is required: ${arg}`);
      return '';
    },
  );
}

function interpolateAll<T>(node: T, env: Record<string, string> = DEPLOYER_ENV): T {
  if (typeof node === 'string') return interpolate(node, env) as T;
  if (Array.isArray(node)) return node.map((n) => interpolateAll(n, env)) as T;
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateAll(v, env)])) as T;
  }
  return node;
}

function environmentOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((entry) => [entry.split('=')[0]!, entry.slice(entry.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

function dependsOn(service: Service): Record<string, string | undefined> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [name, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([name, d]) => [name, d?.condition]));
}

function networksOf(service: Service): string[] {
  const networks = service.networks ?? ['default'];
  return Array.isArray(networks) ? networks : Object.keys(networks);
}

type Mount = { type: 'bind' | 'volume'; source: string; target: string };

function mountsOf(service: Service): Mount[] {
  return (service.volumes ?? []).map((volume) => {
    if (typeof volume === 'string') {
      const [source = '', target = ''] = volume.split(':');
      const bind = source.startsWith('.') || source.startsWith('/') || source.startsWith('~');
      return { type: bind ? 'bind' : 'volume', source, target };
    }
    return {
      type: volume.type === 'bind' ? 'bind' : 'volume',
      source: volume.source ?? '',
      target: volume.target ?? '',
    };
  });
}

/** A compose duration ("40s", "1m30s") in milliseconds. */
function durationMs(value: string): number {
  const units: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  const rest = value.replace(/(\d+(?:\.\d+)?)(us|ms|s|m|h)/g, (_m, n: string, unit: string) => {
    total += Number(n) * units[unit]!;
    return '';
  });
  if (rest !== '' || total === 0) throw new Error(`not a duration: ${value}`);
  return total;
}

/** An nginx time ("65s", "1m", "90") in seconds. */
function nginxSeconds(value: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(value);
  if (!m) throw new Error(`not an nginx time: ${value}`);
  const factor = { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] ?? 's']!;
  return Number(m[1]) * factor;
}

function healthcheckCommand(service: Service): string {
  const test = service.healthcheck?.test;
  return Array.isArray(test) ? test.join(' ') : (test ?? '');
}

const rawCompose = readFileSync(COMPOSE_FILE, 'utf8');
// `merge: true`: the replicas share one definition through `<<: *scangate`, as compose allows.
const raw = parse(rawCompose, { merge: true }) as ComposeFile;
const compose = interpolateAll(raw);
const services = compose.services;

describe('docker-compose.yml', () => {
  it('refuses to start without SIGNING_KEYS_SECRET rather than use a default secret', () => {
    expect(() => interpolateAll(raw, {})).toThrow(/SIGNING_KEYS_SECRET is required/);
  });

  it('is a Compose Specification file with the expected services', () => {
    expect(raw).not.toHaveProperty('version');
    for (const name of ['postgres', 'redis', ...REPLICAS, 'proxy']) {
      expect(services).toHaveProperty(name);
    }
  });

  it('defines both replicas identically, built from this repository', () => {
    const [first, second] = REPLICAS.map((name) => services[name]!);
    expect(second).toEqual(first);
    const build = first!.build;
    const context = typeof build === 'string' ? build : build?.context;
    expect(context === '.' || context === './').toBe(true);
    expect(existsSync(resolve(ROOT, 'Dockerfile'))).toBe(true);
  });

  describe.each(REPLICAS)('%s', (name) => {
    const service = services[name]!;
    const env = environmentOf(service);

    it('sets only variables the app knows (src/config/env.schema.ts)', () => {
      const known = new Set(Object.keys(EnvSchema.shape));
      const unknown = Object.keys(env).filter((key) => !known.has(key));
      expect(unknown).toEqual([]);
    });

    it('passes the production checks with the default settings', () => {
      const config = parseConfig(env);
      expect(config.app.isProduction).toBe(true);
      expect(config.app.publicUrl).toMatch(/^https:\/\//);
      expect(config.database.mode).toBe('external');
      expect(config.store.mode).toBe('redis');
      expect(config.database.migrateOnStart).toBe(true);
      // Behind nginx: the client address must come from X-Forwarded-For.
      expect(config.app.trustProxy).not.toBe(false);
    });

    it('reaches Postgres and Redis by service name, with the credentials Postgres is given', () => {
      const db = new URL(env.DATABASE_URL!);
      expect(db.hostname).toBe('postgres');
      const pg = environmentOf(services.postgres!);
      expect(decodeURIComponent(db.username)).toBe(pg.POSTGRES_USER);
      expect(decodeURIComponent(db.password)).toBe(pg.POSTGRES_PASSWORD);
      expect(db.pathname).toBe(`/${pg.POSTGRES_DB}`);
      expect(new URL(env.REDIS_URL!).hostname).toBe('redis');

      // On a network with each of them.
      const mine = networksOf(service);
      expect(networksOf(services.postgres!).some((n) => mine.includes(n))).toBe(true);
      expect(networksOf(services.redis!).some((n) => mine.includes(n))).toBe(true);
    });

    it('waits for healthy Postgres and Redis', () => {
      expect(dependsOn(service)).toMatchObject({ postgres: 'service_healthy', redis: 'service_healthy' });
    });

    it('has a health check on a /health endpoint of its own port', () => {
      expect(service.healthcheck?.disable).not.toBe(true);
      const command = healthcheckCommand(service);
      expect(command).toMatch(/\/health\/(live|ready)/);
      expect(command).toContain(`:${env.PORT}/`);
    });

    it('restarts, and gets longer than its shutdown grace period to stop', () => {
      expect(service.restart).toMatch(/^(always|unless-stopped|on-failure)/);
      const grace = Number(env.SHUTDOWN_GRACE_MS ?? 10_000);
      expect(durationMs(service.stop_grace_period ?? '10s')).toBeGreaterThan(grace);
    });

    it('does not publish its port (all traffic goes through the proxy)', () => {
      expect(service.ports ?? []).toEqual([]);
    });
  });

  it('gives Postgres and Redis health checks, and Postgres a named volume', () => {
    expect(services.postgres!.image).toMatch(/^postgres:15/);
    expect(healthcheckCommand(services.postgres!)).toContain('pg_isready');
    expect(mountsOf(services.postgres!)).toContainEqual({
      type: 'volume',
      source: expect.any(String),
      target: '/var/lib/postgresql/data',
    });
    expect(services.redis!.image).toMatch(/^redis:7/);
    expect(healthcheckCommand(services.redis!)).toMatch(/redis-cli.*ping/);
  });

  it('runs the proxy with the nginx config from the repository, after both replicas are healthy', () => {
    const proxy = services.proxy!;
    const config = mountsOf(proxy).find((m) => m.target === '/etc/nginx/nginx.conf');
    expect(config).toMatchObject({ type: 'bind', source: './deploy/nginx/nginx.conf' });
    expect(existsSync(resolve(ROOT, config!.source))).toBe(true);

    const deps = dependsOn(proxy);
    for (const replica of REPLICAS) expect(deps[replica]).toBe('service_healthy');

    // Shares a network with the replicas, and none with the data stores.
    const mine = networksOf(proxy);
    for (const replica of REPLICAS) expect(networksOf(services[replica]!).some((n) => mine.includes(n))).toBe(true);
    for (const store of ['postgres', 'redis'])
      expect(networksOf(services[store]!).some((n) => mine.includes(n))).toBe(false);
  });

  it('publishes HTTPS on the port of the default PUBLIC_URL', () => {
    const publicUrl = new URL(environmentOf(services[REPLICAS[0]]!).PUBLIC_URL!);
    const ports = (services.proxy!.ports ?? []).map(String);
    expect(ports).toContain(`${publicUrl.port || '443'}:443`);
  });

  it('has every bind-mounted file in the repository, and declares every volume and network', () => {
    const declaredVolumes = Object.keys(compose.volumes ?? {});
    const declaredNetworks = Object.keys(compose.networks ?? {});
    for (const [name, service] of Object.entries(services)) {
      for (const mount of mountsOf(service)) {
        if (mount.type === 'bind') {
          const path = isAbsolute(mount.source) ? mount.source : resolve(ROOT, mount.source);
          expect({ service: name, source: mount.source, exists: existsSync(path) }).toEqual({
            service: name,
            source: mount.source,
            exists: true,
          });
        } else {
          expect(declaredVolumes).toContain(mount.source);
        }
      }
      if (service.network_mode === undefined) {
        for (const network of networksOf(service)) {
          if (network !== 'default') expect(declaredNetworks).toContain(network);
        }
      }
    }
  });

  it('gives the proxy a certificate before it starts (the certs one-shot service)', () => {
    const certs = services.certs!;
    expect(dependsOn(services.proxy!).certs).toBe('service_completed_successfully');
    const certVolume = mountsOf(certs).find((m) => m.type === 'volume');
    const proxyTls = mountsOf(services.proxy!).find((m) => m.source === certVolume?.source);
    expect(proxyTls?.target).toBe('/etc/nginx/tls');
    expect(environmentOf(certs).PUBLIC_URL).toBe(environmentOf(services[REPLICAS[0]]!).PUBLIC_URL);
  });

  it('passes `config -q` of the compose CLI, when one is installed', () => {
    const candidates: Array<[string, string[]]> = [
      ['docker', ['compose']],
      ['docker-compose', []],
    ];
    const cli = candidates.find(([cmd, prefix]) => {
      try {
        execFileSync(cmd, [...prefix, 'version'], { stdio: 'ignore', timeout: 10_000 });
        return true;
      } catch {
        return false;
      }
    });
    if (!cli) {
      console.log('compose CLI check skipped: neither `docker compose` nor `docker-compose` is installed');
      return;
    }
    const [cmd, prefix] = cli;
    let output = '';
    try {
      execFileSync(cmd, [...prefix, '-f', COMPOSE_FILE, 'config', '-q'], {
        cwd: ROOT,
        env: { ...process.env, ...DEPLOYER_ENV },
        encoding: 'utf8',
        stdio: 'pipe',
        timeout: 20_000,
      });
    } catch (error) {
      const e = error as { stderr?: string; stdout?: string; message: string };
      output = e.stderr || e.stdout || e.message;
    }
    expect(output).toBe('');
  });
});

describe('deploy/nginx/nginx.conf', () => {
  const text = readFileSync(resolve(ROOT, 'deploy/nginx/nginx.conf'), 'utf8')
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .join('\n');
  const directive = (name: string): string[] =>
    [...text.matchAll(new RegExp(`^\\s*${name}\\s+([^;]+);`, 'gm'))].map((m) => m[1]!.trim().replace(/\s+/g, ' '));
  const upstream = /upstream\s+\S+\s*\{([^}]*)\}/.exec(text)?.[1] ?? '';

  it('balances over both replicas on their port, sticky per client', () => {
    const port = environmentOf(services[REPLICAS[0]]!).PORT;
    for (const replica of REPLICAS) expect(upstream).toMatch(new RegExp(`^\\s*server\\s+${replica}:${port}\\b`, 'm'));
    expect(upstream).toMatch(/^\s*(ip_hash|hash\s+\S+(\s+consistent)?)\s*;/m);
  });

  it('passes WebSocket upgrades', () => {
    expect(directive('proxy_http_version')).toContain('1.1');
    expect(directive('proxy_set_header')).toEqual(
      expect.arrayContaining(['Upgrade $http_upgrade', 'Connection $connection_upgrade']),
    );
    expect(text).toMatch(/map\s+\$http_upgrade\s+\$connection_upgrade\s*\{/);
  });

  it('forwards the client address, scheme, host and request id', () => {
    const names = directive('proxy_set_header').map((h) => h.split(' ')[0]!.toLowerCase());
    expect(names).toEqual(expect.arrayContaining(['host', 'x-forwarded-for', 'x-forwarded-proto', 'x-request-id']));
  });

  it('keeps long polls open longer than 35 s', () => {
    const timeouts = directive('proxy_read_timeout');
    expect(timeouts.length).toBeGreaterThan(0);
    for (const t of timeouts) expect(nginxSeconds(t)).toBeGreaterThanOrEqual(35);
  });

  it('limits request bodies', () => {
    expect(directive('client_max_body_size')).toEqual([expect.stringMatching(/^\d+[km]?$/)]);
  });

  it('terminates TLS with the certificate the certs service writes, and redirects plain HTTP', () => {
    const tlsMount = mountsOf(services.proxy!).find((m) => m.target === '/etc/nginx/tls');
    expect(tlsMount).toBeDefined();
    for (const file of [...directive('ssl_certificate'), ...directive('ssl_certificate_key')]) {
      expect(file).toMatch(/^\/etc\/nginx\/tls\/tls\.(crt|key)$/);
    }
    expect(readFileSync(resolve(ROOT, 'deploy/certs/self-signed.sh'), 'utf8')).toMatch(/tls\.crt[\s\S]*tls\.key/);
    expect(directive('listen')).toEqual(
      expect.arrayContaining([expect.stringMatching(/^443 ssl\b/), expect.stringMatching(/^80\b/)]),
    );
    expect(text).toMatch(/return\s+301\s+\$public_origin\$request_uri\s*;/);
  });

  it('includes the redirect target generated from a template the proxy mounts', () => {
    const include = directive('include').find((p) => p.startsWith('/etc/nginx/conf.d/'));
    expect(include).toBe('/etc/nginx/conf.d/public-url.conf');
    const templates = mountsOf(services.proxy!).find((m) => m.target === '/etc/nginx/templates');
    expect(templates).toMatchObject({ type: 'bind' });
    const template = readFileSync(resolve(ROOT, templates!.source, 'public-url.conf.template'), 'utf8');
    expect(template).toContain('${PUBLIC_URL}');
    expect(template).toMatch(/\$public_origin\b/);
    expect(environmentOf(services.proxy!).PUBLIC_URL).toMatch(/^https:\/\//);
  });
});

describe('Dockerfile and .dockerignore', () => {
  const dockerfile = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8');
  const ignored = readFileSync(resolve(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('builds on Node 20 slim and runs the compiled entry point as the node user', () => {
    expect(dockerfile).toMatch(/node:20-bookworm-slim/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENV NODE_ENV=production\b/m);
    expect(dockerfile).toMatch(/^CMD \["node", ?"dist\/src\/main\.js"\]$/m);
    expect(dockerfile).toMatch(/^STOPSIGNAL SIGTERM$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK [\s\S]*\/health\/live/m);
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${environmentOf(services[REPLICAS[0]]!).PORT}$`, 'm'));
  });

  it('keeps local state and secrets out of the build context', () => {
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'data', '.git', '.env', 'coverage']));
  });
});
