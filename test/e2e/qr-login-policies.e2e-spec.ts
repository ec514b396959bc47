import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request, { type Response } from 'supertest';
import { Clock } from '../../src/common/clock/clock.js';
import { QrExpirySweeper } from '../../src/qr-login/qr-expiry.sweeper.js';
import { QrLoginService } from '../../src/qr-login/qr-login.service.js';
import { auditRows, auditTexts, type AuditRow } from '../support/rows.js';
import { NO_LOGIN_LIMITS, testConfig } from '../support/test-config.js';
import { bearer, createUser, loginMobile, type MobileLogin } from '../support/accounts.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { confirm, confirmSignature, createQr, exchange, scan, signInPhone, status, type Phone } from '../support/qr.js';

/**
 * The QR login's settings and side policies end to end (embedded database and
 * in-process store): device keys, number matching, rate limits, audit, images,
 * `returnTo`, and how long finished sessions stay answerable.
 */

/** Real time, moved forward on demand (JWTs keep working; the QR store and sweeper see the shift). */
class ShiftedClock extends Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

const QR_TTL_MS = 120_000; // QR_TTL_SECONDS default
const RETENTION_MS = 5 * 60_000;

/** A confirm without any `X-Device-Signature` header. */
const confirmUnsigned = (t: TestApp, phone: { accessToken: string }, id: string, matchCode?: string) =>
  request(t.url)
    .post(`/api/v1/qr-sessions/${id}/confirm`)
    .set(bearer(phone.accessToken))
    .send(matchCode === undefined ? {} : { matchCode });

/** A supertest parser keeping the body as raw bytes. */
const binary = (res: unknown, done: (error: Error | null, body: unknown) => void) => {
  const stream = res as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => done(null, Buffer.concat(chunks)));
};

const claims = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as { sid: string; amr: string[] };

function expectRateLimited(res: Response): void {
  expect(res.status).toBe(429);
  expect(res.body.code).toBe('rate_limited');
  const retryAfter = Number(res.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

/** Audit writes never block the transition: wait (briefly) until they are in. */
async function auditOf(t: TestApp, qrId: string, count: number): Promise<AuditRow[]> {
  const deadline = Date.now() + 3_000;
  for (;;) {
    const rows = await auditRows(t, `detail->>'qr' = $1`, [qrId.slice(0, 8)]);
    if (rows.length >= count || Date.now() > deadline) return rows;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('QR login policies', () => {
  describe('defaults outside production', () => {
    let t: TestApp;
    let login: string;
    let phone: Phone;
    let keyless: MobileLogin;
    const clock = new ShiftedClock();

    beforeAll(async () => {
      t = await createTestApp({
        config: testConfig({ LOG_LEVEL: 'warn', RATE_LIMITS: 'off' }),
        override: (b) => b.overrideProvider(Clock).useValue(clock),
      });
      ({ login } = await createUser(t));
      phone = await signInPhone(t, login);
      keyless = await loginMobile(t, (await createUser(t)).login);
    });

    afterAll(async () => {
      await t?.close();
    });

    describe('device keys', () => {
      it('lets a phone without a device key scan and confirm without a signature', async () => {
        const qr = await createQr(t);
        await scan(t, keyless, qr.id).expect(200);
        await confirmUnsigned(t, keyless, qr.id, qr.matchCode).expect(200, { status: 'confirmed' });
        const res = await exchange(t, qr.id, qr.pollToken).expect(200);
        expect(claims(res.body.accessToken).amr).toEqual(['qr']);
      });

      it('requires the scan signature of a phone that registered a key (a stolen access token alone claims nothing)', async () => {
        const qr = await createQr(t);
        const unsigned = await request(t.url)
          .post(`/api/v1/qr-sessions/${qr.id}/scan`)
          .set(bearer(phone.accessToken))
          .send({});
        expect({ status: unsigned.status, code: unsigned.body.code }).toEqual({
          status: 401,
          code: 'auth.device_signature_invalid',
        });
        const forged = await request(t.url)
          .post(`/api/v1/qr-sessions/${qr.id}/scan`)
          .set(bearer(phone.accessToken))
          .set('X-Device-Signature', confirmSignature(phone, qr.id, ''))
          .send({});
        expect(forged.status).toBe(401);
        expect((await status(t, qr.id, qr.pollToken)).body.status).toBe('pending');
        await scan(t, phone, qr.id).expect(200);
      });

      it('still requires the signature of a phone that registered a key', async () => {
        const qr = await createQr(t);
        await scan(t, phone, qr.id).expect(200);
        expect((await confirmUnsigned(t, phone, qr.id, qr.matchCode).expect(401)).body.code).toBe(
          'auth.device_signature_invalid',
        );
        await confirm(t, phone, qr.id, qr.matchCode).expect(200);
      });
    });

    describe('QR images', () => {
      it('serves the SVG, not cached', async () => {
        const qr = await createQr(t);
        const res = await request(t.url)
          .get(`/api/v1/qr-sessions/${qr.id}/qr.svg`)
          .buffer(true)
          .parse(binary)
          .expect(200);
        expect(res.headers['content-type']).toMatch(/^image\/svg\+xml/);
        expect(res.headers['cache-control']).toBe('no-store');
        expect((res.body as Buffer).toString('utf8')).toMatch(/<svg[\s\S]*<\/svg>\s*$/);
      });

      it('serves a PNG of the asked size, not cached', async () => {
        const qr = await createQr(t);
        const res = await request(t.url)
          .get(`/api/v1/qr-sessions/${qr.id}/qr.png?size=128`)
          .buffer(true)
          .parse(binary)
          .expect(200);
        expect(res.headers['content-type']).toBe('image/png');
        expect(res.headers['cache-control']).toBe('no-store');
        const png = res.body as Buffer;
        expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
        expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
        expect(png.readUInt32BE(16)).toBe(128);
        expect(png.readUInt32BE(20)).toBe(128);
      });

      it('answers an unknown id with 404 qr.not_found, a bad size with 400, a malformed id with 404', async () => {
        const unknown = 'A'.repeat(43);
        for (const path of [`${unknown}/qr.svg`, `${unknown}/qr.png`]) {
          const res = await request(t.url).get(`/api/v1/qr-sessions/${path}`).expect(404);
          expect(res.body.code).toBe('qr.not_found');
          expect(res.headers['cache-control']).toBe('no-store');
        }
        const qr = await createQr(t);
        for (const query of ['size=5000', 'size=10', 'size=abc', 'size=128.5', 'color=red']) {
          const res = await request(t.url).get(`/api/v1/qr-sessions/${qr.id}/qr.png?${query}`).expect(400);
          expect(res.body.code).toBe('validation.failed');
        }
        expect((await request(t.url).get(`/api/v1/qr-sessions/${qr.id}/qr.svg?size=5000`).expect(400)).body.code).toBe(
          'validation.failed',
        );
        for (const malformed of ['not-a-qr-id', `${qr.id}x`, `${qr.id.slice(0, 42)}!`]) {
          const res = await request(t.url)
            .get(`/api/v1/qr-sessions/${encodeURIComponent(malformed)}/qr.png`)
            .expect(404);
          expect(res.body.code).toBe('qr.not_found');
        }
      });
    });

    describe('returnTo', () => {
      it('refuses an absolute URL on another origin, and a protocol-relative one', async () => {
        for (const returnTo of [
          'https://evil.example.com/after',
          '//evil.example.com',
          '//evil.example.com/after',
          '/\\evil.example.com',
          'javascript:alert(1)',
        ]) {
          const res = await request(t.url).post('/api/v1/qr-sessions').send({ returnTo }).expect(400);
          expect(res.body.code).toBe('validation.failed');
        }
      });

      it('echoes a path (and a URL on our own origin) at the exchange', async () => {
        for (const returnTo of ['/dashboard?tab=security#top', 'http://localhost:3000/welcome']) {
          const qr = await createQr(t, { returnTo });
          await scan(t, phone, qr.id).expect(200);
          await confirm(t, phone, qr.id, qr.matchCode).expect(200);
          expect((await exchange(t, qr.id, qr.pollToken).expect(200)).body.returnTo).toBe(returnTo);
        }
        const plain = await createQr(t);
        await scan(t, phone, plain.id).expect(200);
        await confirm(t, phone, plain.id, plain.matchCode).expect(200);
        expect((await exchange(t, plain.id, plain.pollToken).expect(200)).body).not.toHaveProperty('returnTo');
      });
    });

    describe('audit (clock moves forward from here on)', () => {
      it('writes one row per transition type, the consumed one with the web session, none with a secret', async () => {
        const used = await createQr(t);
        await scan(t, phone, used.id).expect(200);
        await confirm(t, phone, used.id, used.matchCode).expect(200);
        const signedIn = await exchange(t, used.id, used.pollToken).expect(200);

        const declined = await createQr(t);
        await scan(t, phone, declined.id).expect(200);
        await request(t.url)
          .post(`/api/v1/qr-sessions/${declined.id}/cancel`)
          .set(bearer(phone.accessToken))
          .send({})
          .expect(200);

        const lapsed = await createQr(t);
        clock.offsetMs += QR_TTL_MS + 1_000;
        await t.app.get(QrExpirySweeper).sweep();

        const usedRows = await auditOf(t, used.id, 4);
        expect(usedRows.map((r) => r.type).sort()).toEqual(['qr.confirmed', 'qr.consumed', 'qr.created', 'qr.scanned']);
        const consumed = usedRows.find((r) => r.type === 'qr.consumed')!;
        expect(consumed.session_id).toBe(claims(signedIn.body.accessToken).sid);
        expect(consumed.session_id).not.toBe(phone.sessionId);
        expect(consumed.user_id).toBe(signedIn.body.user.id);
        expect(consumed.detail).toMatchObject({ approvedBy: phone.sessionId });
        expect(usedRows.find((r) => r.type === 'qr.scanned')).toMatchObject({
          session_id: phone.sessionId,
          user_id: signedIn.body.user.id,
        });

        expect((await auditOf(t, declined.id, 3)).map((r) => r.type).sort()).toEqual([
          'qr.cancelled',
          'qr.created',
          'qr.scanned',
        ]);
        expect((await auditOf(t, lapsed.id, 2)).map((r) => r.type).sort()).toEqual(['qr.created', 'qr.expired']);

        const texts = await auditTexts(t);
        for (const qr of [used, declined, lapsed]) {
          for (const text of texts) {
            expect(text).not.toContain(qr.id);
            expect(text).not.toContain(qr.pollToken);
          }
        }
      });
    });

    describe('finished sessions stay answerable', () => {
      it('still says consumed (and cancelled, expired) for 5 minutes, then not found', async () => {
        const consumed = await createQr(t);
        await scan(t, phone, consumed.id).expect(200);
        await confirm(t, phone, consumed.id, consumed.matchCode).expect(200);
        await exchange(t, consumed.id, consumed.pollToken).expect(200);
        const cancelled = await createQr(t);
        await scan(t, phone, cancelled.id).expect(200);
        await confirm(t, phone, cancelled.id, String((Number(cancelled.matchCode) + 1) % 100).padStart(2, '0')).expect(
          400,
        );
        const expired = await createQr(t);
        clock.offsetMs += QR_TTL_MS;
        expect((await status(t, expired.id, expired.pollToken).expect(200)).body.status).toBe('expired');

        const expectStatus = async (answers: Array<[typeof consumed, string]>) => {
          for (const [qr, state] of answers)
            expect((await status(t, qr.id, qr.pollToken).expect(200)).body.status).toBe(state);
        };
        await expectStatus([
          [consumed, 'consumed'],
          [cancelled, 'cancelled'],
          [expired, 'expired'],
        ]);
        expect((await exchange(t, consumed.id, consumed.pollToken).expect(410)).body.code).toBe('qr.consumed');

        clock.offsetMs += RETENTION_MS - QR_TTL_MS - 10_000; // 4 min 50 s after consumed/cancelled
        await expectStatus([
          [consumed, 'consumed'],
          [cancelled, 'cancelled'],
          [expired, 'expired'],
        ]);
        clock.offsetMs += QR_TTL_MS + 20_000; // past 5 min for all three
        for (const qr of [consumed, cancelled, expired])
          expect((await status(t, qr.id, qr.pollToken).expect(404)).body.code).toBe('qr.not_found');
      });
    });
  });

  describe('QR_ALLOW_KEYLESS_DEVICES=off and QR_NUMBER_MATCHING=off', () => {
    let t: TestApp;
    let login: string;

    beforeAll(async () => {
      t = await createTestApp({
        config: testConfig({
          LOG_LEVEL: 'warn',
          RATE_LIMITS: 'off',
          QR_ALLOW_KEYLESS_DEVICES: 'off',
          QR_NUMBER_MATCHING: 'off',
        }),
      });
      ({ login } = await createUser(t));
    });

    afterAll(async () => {
      await t?.close();
    });

    it('refuses a phone without a device key at scan (403 auth.forbidden), and changes nothing', async () => {
      const keyless = await loginMobile(t, login);
      const qr = await createQr(t);
      const res = await scan(t, keyless, qr.id).expect(403);
      expect(res.body.code).toBe('auth.forbidden');
      expect((await status(t, qr.id, qr.pollToken).expect(200)).body).toMatchObject({ status: 'pending', version: 1 });
    });

    it('lets a phone with a key sign in a browser without any number: signature over "scangate:confirm:<id>:"', async () => {
      const phone = await signInPhone(t, login);
      const created = await request(t.url).post('/api/v1/qr-sessions').send({}).expect(201);
      const qr = created.body as { id: string; pollToken: string };
      expect(created.body).not.toHaveProperty('matchCode');
      const scanned = await scan(t, phone, qr.id).expect(200);
      expect(scanned.body).not.toHaveProperty('matchCodeChoices');
      await request(t.url)
        .post(`/api/v1/qr-sessions/${qr.id}/confirm`)
        .set(bearer(phone.accessToken))
        .set('X-Device-Signature', confirmSignature(phone, qr.id, ''))
        .send({})
        .expect(200, { status: 'confirmed' });
      await exchange(t, qr.id, qr.pollToken).expect(200);
    });

    it('still refuses that phone an unsigned confirm', async () => {
      const phone = await signInPhone(t, login);
      const qr = await createQr(t);
      await scan(t, phone, qr.id).expect(200);
      expect((await confirmUnsigned(t, phone, qr.id).expect(401)).body.code).toBe('auth.device_signature_invalid');
      expect((await status(t, qr.id, qr.pollToken)).body.status).toBe('scanned');
    });
  });

  describe('rate limits (3 per minute each)', () => {
    let t: TestApp;
    let phone: Phone;
    let other: Phone;
    const browser = { ip: '198.51.100.20', userAgent: null };

    beforeAll(async () => {
      t = await createTestApp({
        config: testConfig({
          LOG_LEVEL: 'warn',
          ...NO_LOGIN_LIMITS,
          QR_CREATE_LIMIT_PER_IP: '3',
          QR_STATUS_LIMIT_PER_SESSION: '3',
          QR_STATUS_MISS_LIMIT_PER_IP: '3',
          QR_SCAN_LIMIT_PER_USER: '3',
        }),
      });
      phone = await signInPhone(t, (await createUser(t)).login);
      other = await signInPhone(t, (await createUser(t)).login);
    });

    afterAll(async () => {
      await t?.close();
    });

    /** Sessions made past the HTTP creation limit (that limit is the first test's). */
    const qrSession = () => t.app.get(QrLoginService).create(undefined, browser);

    it('refuses the 4th creation from one IP with 429 rate_limited and Retry-After', async () => {
      for (let i = 0; i < 3; i++) await request(t.url).post('/api/v1/qr-sessions').send({}).expect(201);
      expectRateLimited(await request(t.url).post('/api/v1/qr-sessions').send({}));
    });

    it('limits status per session: the 4th poll of one is refused, another session is not affected', async () => {
      const a = await qrSession();
      const b = await qrSession();
      for (let i = 0; i < 3; i++) await status(t, a.id, a.pollToken).expect(200);
      expectRateLimited(await status(t, a.id, a.pollToken));
      await status(t, b.id, b.pollToken).expect(200);
    });

    it('counts polls with a wrong poll token against the caller IP, never against the session (anyone who sees the QR)', async () => {
      const qr = await qrSession();
      for (let i = 0; i < 3; i++) await status(t, qr.id, 'x'.repeat(43)).expect(404);
      expectRateLimited(await status(t, qr.id, 'x'.repeat(43)));
      // The browser that holds the token (here on the same IP even) still has its whole budget.
      for (let i = 0; i < 3; i++) await status(t, qr.id, qr.pollToken).expect(200);
      expectRateLimited(await status(t, qr.id, qr.pollToken));
    });

    it('limits scan and confirm per user: the 4th is refused, another user is not affected', async () => {
      const qr = await qrSession();
      for (let i = 0; i < 3; i++) await scan(t, phone, qr.id).expect(200);
      expectRateLimited(await scan(t, phone, qr.id));
      expectRateLimited(await confirm(t, phone, qr.id, qr.matchCode));
      const theirs = await qrSession();
      await scan(t, other, theirs.id).expect(200);
      await confirm(t, other, theirs.id, theirs.matchCode).expect(200);
    });
  });
});
