import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { createHmac, createPublicKey, generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import { SigningKeysService } from '../../src/auth/keys/signing-keys.service.js';
import { Clock } from '../../src/common/clock/clock.js';
import { bearer, createUser, loginMobile, loginWeb } from '../support/accounts.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { FakeClock } from '../support/fake-clock.js';
import { testConfig } from '../support/test-config.js';
import { notHung } from '../support/time-limits.js';
import {
  GuardProbeController,
  PRINCIPAL_ROUTE,
  countQueries,
  decodeJwt,
  inParallel,
  jwksKids,
  mintToken,
  nowSeconds,
  segment,
  strangerKey,
  validClaims,
} from '../support/tokens.js';

/**
 * Access tokens (PROTOCOL.md § Accounts and tokens, issue 3 § Access tokens):
 * what the server signs, what any gateway can verify with the JWKS alone, and
 * that every forged or stale token is refused with 401 auth.unauthenticated.
 */

const TTL = 300;
const ISSUER = 'http://localhost:3000'; // testConfig: PORT 3000, no PUBLIC_URL
const ME = '/api/v1/me';

async function expectRefused(t: TestApp, token: string, route = ME): Promise<void> {
  const res = await request(t.url).get(route).set(bearer(token));
  expect({ status: res.status, code: res.body.code }).toEqual({ status: 401, code: 'auth.unauthenticated' });
}

async function expectAccepted(t: TestApp, token: string, route = ME): Promise<request.Response> {
  const res = await request(t.url).get(route).set(bearer(token));
  expect({ status: res.status, code: res.body.code }).toEqual({ status: 200, code: undefined });
  return res;
}

describe('access tokens', () => {
  let t: TestApp;
  let user: { id: string; login: string };
  let other: { id: string; login: string };
  /** A real session of `user` (a web sign-in), so minted tokens name a live `sid`. */
  let sid: string;

  beforeAll(async () => {
    t = await createTestApp({
      config: testConfig({ LOG_LEVEL: 'warn', RATE_LIMITS: 'off', ACCESS_TOKEN_TTL_SECONDS: String(TTL) }),
      controllers: [GuardProbeController],
    });
    const a = await createUser(t);
    const b = await createUser(t);
    user = { id: a.user.id, login: a.login };
    other = { id: b.user.id, login: b.login };
    sid = (await loginWeb(t, user.login)).sessionId;
  });

  afterAll(async () => {
    await t?.close();
  });

  const claims = (extra: Record<string, unknown> = {}) => ({
    ...validClaims(ISSUER, { sub: user.id, sid }, TTL),
    ...extra,
  });

  describe('what the server signs', () => {
    it('a mobile token: ES256, typ at+jwt, a kid from the JWKS; iss, aud, sub, sid, did, amr, knd; lives ACCESS_TOKEN_TTL_SECONDS (≤ 15 min)', async () => {
      const res = await request(t.url)
        .post('/api/v1/auth/login')
        .send({
          login: user.login,
          password: 'correct horse battery staple',
          device: { id: 'phone-claims-1', name: 'P', platform: 'ios' },
        })
        .expect(200);
      expect(res.body.expiresIn).toBe(TTL);
      const { header, payload } = decodeJwt(res.body.accessToken);
      expect(header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
      expect(await jwksKids(t)).toContain(header.kid);
      expect(payload).toMatchObject({
        iss: ISSUER,
        aud: 'scangate',
        sub: user.id,
        sid: res.body.sessionId,
        did: 'phone-claims-1',
        amr: ['pwd', 'mob'],
        knd: 'mobile',
        roles: ['user'],
      });
      const { iat, exp } = payload as { iat: number; exp: number };
      expect(exp - iat).toBe(TTL);
      expect(exp - iat).toBeLessThanOrEqual(900);
      expect(Math.abs(iat - nowSeconds())).toBeLessThanOrEqual(notHung(5));
    });

    it('a web token has no did, amr [pwd], knd web', async () => {
      const web = await loginWeb(t, user.login);
      const { header, payload } = decodeJwt(web.accessToken);
      expect(header.kid).toEqual(expect.any(String));
      expect(payload).not.toHaveProperty('did');
      expect(payload).toMatchObject({
        sub: user.id,
        sid: web.sessionId,
        amr: ['pwd'],
        knd: 'web',
        aud: 'scangate',
        iss: ISSUER,
      });
      expect((payload.exp as number) - (payload.iat as number)).toBe(TTL);
    });

    it('the principal handed to routes is what the token says', async () => {
      const mobile = await loginMobile(t, user.login);
      const res = await expectAccepted(t, mobile.accessToken, PRINCIPAL_ROUTE);
      expect(res.body).toEqual({
        userId: user.id,
        sessionId: mobile.sessionId,
        kind: 'mobile',
        deviceId: mobile.deviceId,
        roles: ['user'],
        amr: ['pwd', 'mob'],
      });
    });
  });

  describe('an independent verifier (jose, JWKS only)', () => {
    it('openid-configuration names the issuer and a jwks_uri under it', async () => {
      const res = await request(t.url).get('/.well-known/openid-configuration').expect(200);
      expect(res.body.issuer).toBe(ISSUER);
      expect(res.body.jwks_uri).toBe(`${ISSUER}/.well-known/jwks.json`);
      expect(res.body.id_token_signing_alg_values_supported).toEqual(['ES256']);
      // The advertised path is the one that serves the keys.
      await request(t.url).get(new URL(res.body.jwks_uri).pathname).expect(200);
    });

    it('the JWKS holds public EC P-256 keys only, no private part', async () => {
      const res = await request(t.url).get('/.well-known/jwks.json').expect(200);
      expect(res.body.keys.length).toBeGreaterThanOrEqual(1);
      for (const key of res.body.keys) {
        expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String) });
        expect(key).not.toHaveProperty('d');
      }
    });

    it('verifies a token from /api/v1/auth/login with createRemoteJWKSet + jwtVerify (issuer, audience, ES256, typ)', async () => {
      const { accessToken, sessionId } = await loginMobile(t, user.login);
      const jwks = createRemoteJWKSet(new URL(`${t.url}/.well-known/jwks.json`));
      const { payload, protectedHeader } = await jwtVerify(accessToken, jwks, {
        issuer: ISSUER,
        audience: 'scangate',
        algorithms: ['ES256'],
        typ: 'at+jwt',
      });
      expect(payload.sub).toBe(user.id);
      expect(payload.sid).toBe(sessionId);
      expect(protectedHeader.kid).toBe(decodeJwt(accessToken).header.kid);
      // …and the same verifier rejects a tampered copy (it is really checking).
      const forged = tamper(accessToken, (p) => ({ ...p, sub: other.id }));
      await expect(
        jwtVerify(forged, jwks, { issuer: ISSUER, audience: 'scangate', algorithms: ['ES256'] }),
      ).rejects.toThrow(/signature/);
    });
  });

  describe('forged and stale tokens are refused with 401 auth.unauthenticated', () => {
    it('positive control: a token minted with the real key and correct claims and header IS accepted', async () => {
      // Every refusal below changes exactly one thing from this token.
      const res = await expectAccepted(t, await mintToken(t, claims()));
      expect(res.body.id).toBe(user.id);
      await expectAccepted(t, await mintToken(t, claims()), PRINCIPAL_ROUTE);
    });

    it('no token, a malformed token, or a non-Bearer scheme', async () => {
      const none = await request(t.url).get(ME).expect(401);
      expect(none.body.code).toBe('auth.unauthenticated');
      await expectRefused(t, 'not-a-jwt');
      await expectRefused(t, 'a.b.c');
      const token = await mintToken(t, claims());
      const basic = await request(t.url).get(ME).set('Authorization', `Basic ${token}`).expect(401);
      expect(basic.body.code).toBe('auth.unauthenticated');
    });

    it('alg none (unsigned), in any spelling, with or without a signature part', async () => {
      const { kid } = t.app.get(SigningKeysService).signingKey();
      for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
        const unsigned = `${segment({ alg, typ: 'at+jwt', kid })}.${segment(claims())}`;
        await expectRefused(t, `${unsigned}.`);
        await expectRefused(t, unsigned);
      }
      // The real signature of a valid token, glued under an alg:none header.
      const real = await mintToken(t, claims());
      const [, payload, signature] = real.split('.');
      await expectRefused(t, `${segment({ alg: 'none', typ: 'at+jwt', kid })}.${payload}.${signature}`);
    });

    it('a tampered payload keeping the signature: another sub, added roles, another sid', async () => {
      const { accessToken } = await loginMobile(t, user.login);
      await expectAccepted(t, accessToken);
      await expectRefused(
        t,
        tamper(accessToken, (p) => ({ ...p, sub: other.id })),
      );
      await expectRefused(
        t,
        tamper(accessToken, (p) => ({ ...p, roles: ['user', 'admin'] })),
      );
      await expectRefused(
        t,
        tamper(accessToken, (p) => ({ ...p, exp: (p.exp as number) + 3600 })),
      );
      await expectRefused(
        t,
        tamper(accessToken, (p) => ({ ...p, sid })),
      );
      // A tampered header (another kid the server knows would not help either).
      const [h, p, s] = accessToken.split('.');
      const header = JSON.parse(Buffer.from(h!, 'base64url').toString()) as Record<string, unknown>;
      await expectRefused(t, `${segment({ ...header, extra: 1 })}.${p}.${s}`);
    });

    it('an unknown kid (a fresh P-256 key, correct claims otherwise)', async () => {
      const stranger = strangerKey();
      await expectRefused(t, await mintToken(t, claims(), { key: stranger.privateKey, header: { kid: stranger.kid } }));
      // A stranger key under the server's real kid fails the signature check.
      await expectRefused(t, await mintToken(t, claims(), { key: stranger.privateKey }));
    });

    it('a missing kid, even when signed with the real key', async () => {
      await expectRefused(t, await mintToken(t, claims(), { header: { kid: undefined } }));
    });

    it('HS256 signed with the server public key (PEM, DER, JWK text): the algorithm-confusion attack', async () => {
      const jwks = await request(t.url).get('/.well-known/jwks.json').expect(200);
      const jwk = jwks.body.keys[0] as { kid: string };
      const publicKey = createPublicKey({ key: jwk as never, format: 'jwk' });
      const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
      const secrets: Array<string | Buffer> = [
        pem,
        pem.trim(),
        publicKey.export({ format: 'der', type: 'spki' }),
        JSON.stringify(jwk),
      ];
      for (const typ of ['at+jwt', 'JWT']) {
        const signingInput = `${segment({ alg: 'HS256', typ, kid: jwk.kid })}.${segment(claims())}`;
        for (const secret of secrets) {
          const mac = createHmac('sha256', secret).update(signingInput).digest('base64url');
          await expectRefused(t, `${signingInput}.${mac}`);
        }
      }
    });

    it('expired (signed by the real key, exp in the past)', async () => {
      const iat = nowSeconds() - TTL - 10;
      await expectRefused(t, await mintToken(t, claims({ iat, exp: iat + TTL })));
      // One second past is enough (no leeway is granted).
      const justExpired = nowSeconds() - 2;
      await expectRefused(t, await mintToken(t, claims({ iat: justExpired - 60, exp: justExpired })));
    });

    it('a token without exp (it would never expire), even when signed by the real key', async () => {
      // RFC 9068 §2.2: exp is REQUIRED in an access token. jsonwebtoken only
      // checks exp when present, so the strategy must insist on it.
      const { exp: _exp, ...noExp } = claims();
      await expectRefused(t, await mintToken(t, noExp));
    });

    it('a wrong or missing aud', async () => {
      await expectRefused(t, await mintToken(t, claims({ aud: 'another-service' })));
      await expectRefused(t, await mintToken(t, claims({ aud: ['another-service'] })));
      const { aud: _aud, ...noAud } = claims();
      await expectRefused(t, await mintToken(t, noAud));
    });

    it('a wrong or missing iss', async () => {
      await expectRefused(t, await mintToken(t, claims({ iss: 'https://evil.example.com' })));
      await expectRefused(t, await mintToken(t, claims({ iss: `${ISSUER}/` })));
      const { iss: _iss, ...noIss } = claims();
      await expectRefused(t, await mintToken(t, noIss));
    });

    it('a missing or wrong typ header (an ID token or a generic JWT is not an access token)', async () => {
      await expectRefused(t, await mintToken(t, claims(), { header: { typ: undefined } }));
      for (const typ of ['JWT', 'jwt', 'id+jwt', 'at+jwt ', 'rt+jwt']) {
        await expectRefused(t, await mintToken(t, claims(), { header: { typ } }));
      }
    });

    it('another asymmetric algorithm with the real key id (ES384 header)', async () => {
      // Signed by a P-384 key with the server's kid: only ES256 is accepted.
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
      await expectRefused(t, await mintToken(t, claims(), { alg: 'ES384', key: privateKey }));
    });

    it('missing sid, sub or roles claims, even when correctly signed', async () => {
      for (const name of ['sid', 'sub', 'roles'] as const) {
        const { [name]: _dropped, ...rest } = claims();
        await expectRefused(t, await mintToken(t, rest), PRINCIPAL_ROUTE);
      }
    });
  });

  describe('revoked sessions are refused on the very next request', () => {
    it('DELETE /api/v1/me/sessions/:id', async () => {
      const first = await loginMobile(t, other.login);
      const second = await loginMobile(t, other.login);
      await expectAccepted(t, first.accessToken);
      await request(t.url).delete(`/api/v1/me/sessions/${first.sessionId}`).set(bearer(second.accessToken)).expect(204);
      await expectRefused(t, first.accessToken);
      await expectRefused(t, first.accessToken, PRINCIPAL_ROUTE);
      await expectAccepted(t, second.accessToken);
    });

    it('logout', async () => {
      const session = await loginWeb(t, other.login);
      await expectAccepted(t, session.accessToken);
      await request(t.url).post('/api/v1/auth/logout').set(bearer(session.accessToken)).expect(204);
      await expectRefused(t, session.accessToken);
    });

    it('a repeat sign-in on the same device replaces the session', async () => {
      const first = await loginMobile(t, other.login, undefined, { id: 'same-phone' });
      const again = await loginMobile(t, other.login, undefined, { id: 'same-phone' });
      expect(again.sessionId).not.toBe(first.sessionId);
      await expectRefused(t, first.accessToken);
      await expectAccepted(t, again.accessToken);
    });

    it('a token minted with the real key for a revoked sid', async () => {
      const session = await loginWeb(t, other.login);
      await request(t.url).post('/api/v1/auth/logout').set(bearer(session.accessToken)).expect(204);
      const reminted = await mintToken(t, validClaims(ISSUER, { sub: other.id, sid: session.sessionId }, TTL));
      await expectRefused(t, reminted);
    });
  });

  it('the guard issues no SQL: 0 queries over 100 authenticated requests (embedded Postgres, in-process store)', async () => {
    const { accessToken } = await loginMobile(t, user.login);
    await expectAccepted(t, accessToken, PRINCIPAL_ROUTE); // warm: the public key set is now cached
    const queries = countQueries(t.app);
    try {
      // The counter sees queries: one GET /api/v1/me loads the user.
      await expectAccepted(t, accessToken);
      expect(queries.take().some((q) => /\busers\b/.test(q))).toBe(true);

      await inParallel(100, 10, async () => {
        await request(t.url).get(PRINCIPAL_ROUTE).set(bearer(accessToken)).expect(200);
      });
      expect(queries.take()).toEqual([]);
    } finally {
      queries.stop();
    }
  });
});

describe('signing key rotation (fake clock)', () => {
  const ROTATION_TTL = 120;
  let t: TestApp;
  let clock: FakeClock;
  let login: string;

  beforeAll(async () => {
    clock = new FakeClock(Date.now());
    t = await createTestApp({
      config: testConfig({ LOG_LEVEL: 'warn', RATE_LIMITS: 'off', ACCESS_TOKEN_TTL_SECONDS: String(ROTATION_TTL) }),
      override: (builder) => builder.overrideProvider(Clock).useValue(clock),
    });
    login = (await createUser(t)).login;
  });

  afterAll(async () => {
    await t?.close();
  });

  /**
   * The JWKS is read through a 60 s cache that runs on real time; an access
   * token with an unknown kid makes the server reload the key set (at most
   * every 5 s of its clock). That is how the test sees the pruning at once.
   */
  async function forceKeyReload(): Promise<void> {
    const stranger = strangerKey();
    const claims = { iss: ISSUER, aud: 'scangate', sub: 'x', sid: 'x', roles: [], exp: nowSeconds() + 60 };
    await expectRefused(t, await mintToken(t, claims, { key: stranger.privateKey, header: { kid: stranger.kid } }));
  }

  it('a new key signs new tokens; old tokens keep working; the JWKS lists both until the old tokens have all expired', async () => {
    const before = await loginMobile(t, login);
    const oldKid = decodeJwt(before.accessToken).header.kid as string;
    expect(await jwksKids(t)).toEqual([oldKid]);

    const newKid = await t.app.get(SigningKeysService).rotate();
    expect(newKid).not.toBe(oldKid);

    const after = await loginMobile(t, login);
    expect(decodeJwt(after.accessToken).header.kid).toBe(newKid);
    await expectAccepted(t, before.accessToken);
    await expectAccepted(t, after.accessToken);
    expect(await jwksKids(t)).toEqual([oldKid, newKid].sort());

    // An outside verifier holding the JWKS accepts both tokens.
    const jwks = createRemoteJWKSet(new URL(`${t.url}/.well-known/jwks.json`));
    for (const token of [before.accessToken, after.accessToken]) {
      await expect(
        jwtVerify(token, jwks, { issuer: ISSUER, audience: 'scangate', algorithms: ['ES256'] }),
      ).resolves.toBeDefined();
    }

    // Just before the last old token can have expired (TTL + 60 s skew): still listed.
    clock.advance((ROTATION_TTL + 50) * 1000);
    await forceKeyReload();
    expect(await jwksKids(t)).toEqual([oldKid, newKid].sort());
    await expectAccepted(t, before.accessToken);

    // After it: gone from the JWKS, and its tokens are refused (their real exp notwithstanding).
    clock.advance(15_000);
    await forceKeyReload();
    expect(await jwksKids(t)).toEqual([newKid]);
    await expectRefused(t, before.accessToken);
    await expectAccepted(t, after.accessToken);
  });
});

/** The token with its payload rewritten and the original signature kept. */
function tamper(token: string, change: (payload: Record<string, unknown>) => Record<string, unknown>): string {
  const [header, , signature] = token.split('.');
  return `${header}.${segment(change(decodeJwt(token).payload))}.${signature}`;
}
