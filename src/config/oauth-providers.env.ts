import { createPrivateKey, createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { httpBase, optional } from './env.fields.js';

/**
 * Each OAuth provider's part of the configuration, one entry per provider:
 * its environment variables (validated with all the others by `EnvSchema`),
 * which of them are its credentials (all or none), any further checks, and
 * the settings they make once its credentials are set. Adding a provider is
 * its folder in `oauth/providers/`, one entry here and one line in the
 * registry (`oauth/oauth.registry.ts`).
 */
export interface ProviderEnv<V extends z.ZodRawShape = z.ZodRawShape, S = unknown> {
  variables: V;
  credentials: { required: Array<keyof V & string>; optional?: Array<keyof V & string> };
  /** Problems with values that passed their schema (e.g. a key that is not an RSA key). */
  problems?(env: z.output<z.ZodObject<V>>): string[];
  /** Called only when every required credential is set. */
  settings(env: z.output<z.ZodObject<V>>): S;
}

const providerEnv = <V extends z.ZodRawShape, S>(entry: ProviderEnv<V, S>) => entry;

const trimSlash = (base: string) => base.replace(/\/+$/, '');

export interface WechatSettings {
  appId: string;
  appSecret: string;
  /** Browser-facing host (the `qrconnect` page). */
  openBase: string;
  /** Server-facing host (`sns/oauth2/access_token`, `sns/userinfo`). */
  apiBase: string;
}

export interface AlipaySettings {
  appId: string;
  /** The app's RSA private key, PEM (bare base64 PKCS#8/PKCS#1 in the environment is wrapped). */
  privateKeyPem: string;
  /** Alipay's RSA public key, PEM: every gateway answer must verify with it. */
  alipayPublicKeyPem: string;
  authBase: string;
  gateway: string;
}

export interface DingtalkSettings {
  clientId: string;
  clientSecret: string;
  /** Only members of this organisation may sign in, when set. */
  corpId?: string;
  loginBase: string;
  apiBase: string;
}

export const PROVIDER_ENV = {
  wechat: providerEnv({
    variables: {
      WECHAT_APP_ID: optional(
        z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'expected the AppID (letters and digits)' }),
      ),
      WECHAT_APP_SECRET: optional(z.string().min(1).max(256)),
      WECHAT_OPEN_BASE: httpBase('https://open.weixin.qq.com'),
      WECHAT_API_BASE: httpBase('https://api.weixin.qq.com'),
    },
    credentials: { required: ['WECHAT_APP_ID', 'WECHAT_APP_SECRET'] },
    settings: (env): WechatSettings => ({
      appId: env.WECHAT_APP_ID!,
      appSecret: env.WECHAT_APP_SECRET!,
      openBase: trimSlash(env.WECHAT_OPEN_BASE),
      apiBase: trimSlash(env.WECHAT_API_BASE),
    }),
  }),
  alipay: providerEnv({
    variables: {
      ALIPAY_APP_ID: optional(z.string().regex(/^\d{1,32}$/, { error: 'expected the app id (digits)' })),
      ALIPAY_PRIVATE_KEY: optional(z.string().min(1).max(8_192)),
      ALIPAY_PUBLIC_KEY: optional(z.string().min(1).max(8_192)),
      ALIPAY_AUTH_BASE: httpBase('https://openauth.alipay.com'),
      ALIPAY_GATEWAY: httpBase('https://openapi.alipay.com/gateway.do'),
    },
    credentials: { required: ['ALIPAY_APP_ID', 'ALIPAY_PRIVATE_KEY', 'ALIPAY_PUBLIC_KEY'] },
    problems: (env) => [
      ...(env.ALIPAY_PRIVATE_KEY !== undefined && !rsaKeyPem(env.ALIPAY_PRIVATE_KEY, 'private')
        ? ["ALIPAY_PRIVATE_KEY: expected the app's RSA private key (PEM, or bare base64 PKCS#8/PKCS#1)"]
        : []),
      ...(env.ALIPAY_PUBLIC_KEY !== undefined && !rsaKeyPem(env.ALIPAY_PUBLIC_KEY, 'public')
        ? [
            "ALIPAY_PUBLIC_KEY: expected Alipay's RSA public key (PEM, or bare base64 SPKI); responses are verified with it",
          ]
        : []),
    ],
    settings: (env): AlipaySettings => ({
      appId: env.ALIPAY_APP_ID!,
      privateKeyPem: rsaKeyPem(env.ALIPAY_PRIVATE_KEY!, 'private')!,
      alipayPublicKeyPem: rsaKeyPem(env.ALIPAY_PUBLIC_KEY!, 'public')!,
      authBase: trimSlash(env.ALIPAY_AUTH_BASE),
      gateway: env.ALIPAY_GATEWAY,
    }),
  }),
  dingtalk: providerEnv({
    variables: {
      DINGTALK_CLIENT_ID: optional(
        z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'expected the client id (AppKey)' }),
      ),
      DINGTALK_CLIENT_SECRET: optional(z.string().min(1).max(256)),
      DINGTALK_CORP_ID: optional(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'expected a corpId' })),
      DINGTALK_LOGIN_BASE: httpBase('https://login.dingtalk.com'),
      DINGTALK_API_BASE: httpBase('https://api.dingtalk.com'),
    },
    credentials: { required: ['DINGTALK_CLIENT_ID', 'DINGTALK_CLIENT_SECRET'], optional: ['DINGTALK_CORP_ID'] },
    settings: (env): DingtalkSettings => ({
      clientId: env.DINGTALK_CLIENT_ID!,
      clientSecret: env.DINGTALK_CLIENT_SECRET!,
      ...(env.DINGTALK_CORP_ID ? { corpId: env.DINGTALK_CORP_ID } : {}),
      loginBase: trimSlash(env.DINGTALK_LOGIN_BASE),
      apiBase: trimSlash(env.DINGTALK_API_BASE),
    }),
  }),
};

/** A table of providers' configuration entries: `PROVIDER_ENV`, or it and plug-ins' (see `parseConfig`). */
// Each entry's own variables type its callbacks; a table holds entries of any variables.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ProviderEnvTable = Record<string, ProviderEnv<any, unknown>>;

export type OAuthProviderId = keyof typeof PROVIDER_ENV;

/** Settings per provider; a provider without an entry is not offered by that source. */
export type ProviderSettingsById = {
  [K in OAuthProviderId]?: ReturnType<(typeof PROVIDER_ENV)[K]['settings']>;
};

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** Every provider's variables, for `EnvSchema`. */
export const PROVIDER_VARIABLES = variablesOf(PROVIDER_ENV) as UnionToIntersection<
  (typeof PROVIDER_ENV)[OAuthProviderId]['variables']
>;

export function variablesOf(table: ProviderEnvTable): z.ZodRawShape {
  return Object.assign({}, ...Object.values(table).map((entry) => entry.variables)) as z.ZodRawShape;
}

/**
 * An RSA key as PEM, from PEM or from the bare base64 Alipay's console gives
 * (PKCS#8 or PKCS#1 for a private key, SPKI for a public one); null when it is
 * not one.
 */
function rsaKeyPem(text: string, kind: 'private' | 'public'): string | null {
  const trimmed = text.trim();
  const candidates = trimmed.includes('-----BEGIN')
    ? [trimmed]
    : (kind === 'private' ? ['PRIVATE KEY', 'RSA PRIVATE KEY'] : ['PUBLIC KEY']).map((label) =>
        pem(label, trimmed.replace(/\s+/g, '')),
      );
  for (const candidate of candidates) {
    try {
      const key = kind === 'private' ? createPrivateKey(candidate) : createPublicKey(candidate);
      if (key.asymmetricKeyType !== 'rsa') return null;
      return key.export({ type: kind === 'private' ? 'pkcs8' : 'spki', format: 'pem' }).toString();
    } catch {
      // not this encoding
    }
  }
  return null;
}

function pem(label: string, base64: string): string {
  return `-----BEGIN ${label}-----\n${base64.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END ${label}-----\n`;
}
