import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, parseConfig } from '../../../src/config/config.loader.js';

const problemsOf = (env: Record<string, string>): string => {
  try {
    parseConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
};

describe('parseConfig', () => {
  it('gives a working zero-configuration setup: embedded database, in-process store, port 3000', () => {
    const config = parseConfig({});
    expect(config.app).toMatchObject({
      env: 'development',
      port: 3000,
      publicUrl: 'http://localhost:3000',
      rateLimits: true,
    });
    expect(config.database).toMatchObject({ mode: 'embedded', poolSize: 1, migrateOnStart: true });
    expect(config.database.dataDir).toMatch(/[/\\]data[/\\]postgres$/);
    expect(config.store).toMatchObject({ mode: 'memory', timeoutMs: 500, keyPrefix: 'scangate:' });
  });

  it('uses real Postgres and Redis when their URLs are set', () => {
    const config = parseConfig({
      DATABASE_URL: 'postgres://u:p@db:5432/scangate',
      REDIS_URL: 'redis://:secret@cache:6379/0',
      DATABASE_POOL_SIZE: '20',
    });
    expect(config.database).toMatchObject({ mode: 'external', url: 'postgres://u:p@db:5432/scangate', poolSize: 20 });
    expect(config.store).toMatchObject({ mode: 'redis', url: 'redis://:secret@cache:6379/0' });
  });

  it('treats an empty variable as unset', () => {
    expect(parseConfig({ DATABASE_URL: '', REDIS_URL: '' }).database.mode).toBe('embedded');
  });

  it.each([
    ['PORT', 'not-a-port', /PORT: expected a port number from 1 to 65535/],
    ['PORT', '70000', /PORT: expected a port number/],
    ['DATABASE_URL', 'mysql://x@y/z', /DATABASE_URL: expected a postgres:\/\/ connection URL/],
    ['DATABASE_URL', 'not a url', /DATABASE_URL: expected a postgres:\/\//],
    ['REDIS_URL', 'http://cache:6379', /REDIS_URL: expected a redis:\/\/ or rediss:\/\/ URL/],
    ['PUBLIC_URL', 'login.example.com', /PUBLIC_URL: expected an http\(s\) origin/],
    ['RATE_LIMITS', 'maybe', /RATE_LIMITS: expected "on" or "off"/],
    ['NODE_ENV', 'staging', /NODE_ENV: expected development, production or test/],
    ['CORS_ORIGINS', 'https://a.example.com/path', /CORS_ORIGINS: expected a comma-separated list of origins/],
    ['TRUST_PROXY', 'sometimes', /TRUST_PROXY: expected false, true, a hop count/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL: expected one of/],
    ['BODY_LIMIT', 'big', /BODY_LIMIT: expected a size/],
  ])('refuses %s=%s with a message naming the variable and what is expected', (name, value, message) => {
    expect(problemsOf({ [name]: value })).toMatch(message);
  });

  it('never echoes a refused value (URLs can carry passwords)', () => {
    const message = problemsOf({ DATABASE_URL: 'mysql://admin:hunter2@db/x' });
    expect(message).not.toContain('hunter2');
  });

  it('names every bad variable on one line', () => {
    const message = problemsOf({ PORT: 'x', LOG_LEVEL: 'loud' });
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toMatch(/PORT: .*; LOG_LEVEL: /);
  });

  describe('NODE_ENV=production', () => {
    const prod = {
      NODE_ENV: 'production',
      PUBLIC_URL: 'https://login.example.com',
      DATABASE_URL: 'postgres://u@db/s',
      SIGNING_KEYS_SECRET: Buffer.alloc(32, 7).toString('base64'),
    };

    it('accepts a safe setup', () => {
      const config = parseConfig(prod);
      expect(config.app.isProduction).toBe(true);
      expect(config.app.publicUrl).toBe('https://login.example.com');
    });

    it('refuses a missing PUBLIC_URL', () => {
      expect(problemsOf({ ...prod, PUBLIC_URL: '' })).toMatch(/PUBLIC_URL: required when NODE_ENV=production/);
    });

    it('refuses an http:// PUBLIC_URL', () => {
      expect(problemsOf({ ...prod, PUBLIC_URL: 'http://login.example.com' })).toMatch(
        /PUBLIC_URL: must be an https:\/\/ origin/,
      );
    });

    it('refuses signing keys without an encryption key', () => {
      expect(problemsOf({ ...prod, SIGNING_KEYS_SECRET: '' })).toMatch(
        /SIGNING_KEYS_SECRET: required when NODE_ENV=production/,
      );
    });

    it('refuses the embedded database', () => {
      expect(problemsOf({ ...prod, DATABASE_URL: '' })).toMatch(/DATABASE_URL: required when NODE_ENV=production/);
    });

    it('serves no API documentation unless API_DOCS=on (development serves it unless off)', () => {
      expect(parseConfig(prod).app.apiDocs).toBe(false);
      expect(parseConfig({ ...prod, API_DOCS: 'on' }).app.apiDocs).toBe(true);
      expect(parseConfig({}).app.apiDocs).toBe(true);
      expect(parseConfig({ API_DOCS: 'off' }).app.apiDocs).toBe(false);
    });
  });

  it('takes a METRICS_TOKEN of 16 to 256 printable characters, never echoing a bad one', () => {
    expect(parseConfig({ METRICS_TOKEN: 'a-long-random-token-42' }).app.metricsToken).toBe('a-long-random-token-42');
    expect(parseConfig({}).app.metricsToken).toBeUndefined();
    const message = problemsOf({ METRICS_TOKEN: 'short secret' });
    expect(message).toMatch(/METRICS_TOKEN: expected 16 to 256 printable characters/);
    expect(message).not.toContain('short secret');
  });

  it('parses TRUST_PROXY into what Express expects', () => {
    expect(parseConfig({ TRUST_PROXY: 'true' }).app.trustProxy).toBe(true);
    expect(parseConfig({ TRUST_PROXY: '2' }).app.trustProxy).toBe(2);
    expect(parseConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).app.trustProxy).toEqual(['loopback', '10.0.0.0/8']);
  });

  it('normalises PUBLIC_URL to an origin and lists CORS origins', () => {
    const config = parseConfig({
      PUBLIC_URL: 'https://login.example.com/',
      CORS_ORIGINS: 'https://a.example.com, https://b.example.com',
    });
    expect(config.app.publicUrl).toBe('https://login.example.com');
    expect(config.app.corsOrigins).toEqual(['https://a.example.com', 'https://b.example.com']);
  });
});

describe('parseConfig: third-party providers', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const bare = (pem: string) => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const privatePkcs8 = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const privatePkcs1 = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const publicSpki = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();

  it('enables no provider without credentials; sandboxes on in development, never in production', () => {
    const config = parseConfig({});
    expect(config.oauth).toEqual({ timeoutMs: 5_000, sandboxes: true });
    expect(parseConfig({ SANDBOXES: 'off' }).oauth.sandboxes).toBe(false);
    const production = parseConfig({
      NODE_ENV: 'production',
      PUBLIC_URL: 'https://login.example.com',
      DATABASE_URL: 'postgres://u:p@db/x',
      SIGNING_KEYS_SECRET: Buffer.alloc(32, 1).toString('base64'),
    });
    expect(production.oauth.sandboxes).toBe(false);
  });

  it('takes each provider with its base URLs (defaults: the real platforms)', () => {
    const config = parseConfig({
      WECHAT_APP_ID: 'wx1234567890abcdef',
      WECHAT_APP_SECRET: 'secret',
      DINGTALK_CLIENT_ID: 'dingabc',
      DINGTALK_CLIENT_SECRET: 'secret2',
      DINGTALK_CORP_ID: 'ding-corp',
      DINGTALK_API_BASE: 'http://127.0.0.1:9999/dingtalk/',
    });
    expect(config.oauth.wechat).toEqual({
      appId: 'wx1234567890abcdef',
      appSecret: 'secret',
      openBase: 'https://open.weixin.qq.com',
      apiBase: 'https://api.weixin.qq.com',
    });
    expect(config.oauth.dingtalk).toEqual({
      clientId: 'dingabc',
      clientSecret: 'secret2',
      corpId: 'ding-corp',
      loginBase: 'https://login.dingtalk.com',
      apiBase: 'http://127.0.0.1:9999/dingtalk',
    });
    expect(config.oauth.alipay).toBeUndefined();
  });

  it.each([
    [{ WECHAT_APP_ID: 'wx1' }, /WECHAT_APP_SECRET: required with WECHAT_APP_ID/],
    [{ WECHAT_APP_SECRET: 's' }, /WECHAT_APP_ID: required with WECHAT_APP_SECRET/],
    [
      { ALIPAY_APP_ID: '2021000000000000' },
      /ALIPAY_PRIVATE_KEY: required with ALIPAY_APP_ID.*ALIPAY_PUBLIC_KEY: required with ALIPAY_APP_ID/,
    ],
    [
      { DINGTALK_CORP_ID: 'corp' },
      /DINGTALK_CLIENT_ID: required with DINGTALK_CORP_ID.*DINGTALK_CLIENT_SECRET: required/,
    ],
  ])('stops start-up on partial credentials %o, naming what is missing', (env, message) => {
    expect(problemsOf(env)).toMatch(message);
  });

  it('reads Alipay keys as PEM or as the bare base64 of the console (PKCS#8, PKCS#1, SPKI)', () => {
    for (const privateKey of [privatePkcs8, bare(privatePkcs8), bare(privatePkcs1)]) {
      const config = parseConfig({
        ALIPAY_APP_ID: '2021000000000000',
        ALIPAY_PRIVATE_KEY: privateKey,
        ALIPAY_PUBLIC_KEY: bare(publicSpki),
      });
      expect(config.oauth.alipay).toMatchObject({
        appId: '2021000000000000',
        privateKeyPem: privatePkcs8,
        alipayPublicKeyPem: publicSpki,
      });
    }
  });

  it('refuses an empty, malformed or non-RSA Alipay public key (responses could not be verified)', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    for (const publicKey of ['not a key', bare(publicSpki).slice(0, 40), ec]) {
      expect(
        problemsOf({
          ALIPAY_APP_ID: '2021000000000000',
          ALIPAY_PRIVATE_KEY: privatePkcs8,
          ALIPAY_PUBLIC_KEY: publicKey,
        }),
      ).toMatch(/ALIPAY_PUBLIC_KEY: expected Alipay's RSA public key/);
    }
    // Empty is unset: then the other two are a partial set.
    expect(
      problemsOf({ ALIPAY_APP_ID: '2021000000000000', ALIPAY_PRIVATE_KEY: privatePkcs8, ALIPAY_PUBLIC_KEY: '' }),
    ).toMatch(/ALIPAY_PUBLIC_KEY: required/);
  });

  it('never echoes a secret in a refusal', () => {
    const message = problemsOf({
      ALIPAY_APP_ID: '2021000000000000',
      ALIPAY_PRIVATE_KEY: 'TOPSECRETKEYMATERIAL',
      ALIPAY_PUBLIC_KEY: bare(publicSpki),
    });
    expect(message).not.toContain('TOPSECRETKEYMATERIAL');
  });
});
