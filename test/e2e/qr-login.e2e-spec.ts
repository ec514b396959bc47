import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { QrLoginService } from '../../src/qr-login/qr-login.service.js';
import { QrSessionStore } from '../../src/qr-login/qr-sessions.store.js';
import { STORE, type Store } from '../../src/store/store.js';
import { UsersService } from '../../src/users/users.service.js';
import { bearer, createUser, loginWeb } from '../support/accounts.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import {
  confirm,
  confirmedQr,
  confirmSignature,
  createQr,
  exchange,
  scan,
  signInPhone,
  status,
  type Phone,
} from '../support/qr.js';
import { backends, describeWith } from '../support/services.js';
import { testConfig } from '../support/test-config.js';
import { notHung } from '../support/time-limits.js';

/**
 * QR login end to end, on the embedded defaults and (when configured) on
 * real Postgres and Redis: the flow, its races, the long poll, and each flaw of
 * SECURITY.md (F1–F6) as the attacker would try it.
 */

describe.each(backends('qr'))('QR login on %s', (_name, need, backend) => {
  describeWith(need, 'flow and flaws', () => {
    let t: TestApp;
    let dispose: () => Promise<void>;
    let phone: Phone;
    let login: string;
    const marker = `Mk${Date.now().toString(36)}`;

    beforeAll(async () => {
      const b = await backend();
      dispose = b.dispose;
      t = await createTestApp({
        database: b.database,
        config: testConfig({ LOG_LEVEL: 'warn', RATE_LIMITS: 'off', ...b.env }),
      });
      ({ login } = await createUser(t, { login: `${marker.toLowerCase()}login`, displayName: `${marker} Name` }));
      phone = await signInPhone(t, login);
    });

    afterAll(async () => {
      await t?.close();
      await dispose?.();
    });

    it('signs a browser in: create → scan → confirm → exchange, with the refresh token only in a cookie', async () => {
      const qr = await createQr(t, { returnTo: '/after' });
      expect(qr).toMatchObject({
        status: 'pending',
        version: 1,
        pollIntervalMs: 1000,
        matchCode: expect.stringMatching(/^\d{2}$/),
      });
      const scanned = await scan(t, phone, qr.id).expect(200);
      expect(scanned.body).toMatchObject({
        id: qr.id,
        status: 'scanned',
        requester: {
          browser: expect.stringMatching(/^Chrome 142/),
          ip: expect.any(String),
          createdAt: expect.any(String),
        },
        risk: { networkMatch: true, level: 'low' },
      });
      expect(scanned.body.matchCodeChoices).toHaveLength(3);
      expect(scanned.body.matchCodeChoices).toContain(qr.matchCode);
      await confirm(t, phone, qr.id, qr.matchCode).expect(200, { status: 'confirmed' });
      const res = await exchange(t, qr.id, qr.pollToken).expect(200);
      expect(res.body).toMatchObject({
        user: { displayName: `${marker} Name` },
        accessToken: expect.any(String),
        expiresIn: expect.any(Number),
        returnTo: '/after',
      });
      expect(res.body.refreshToken).toBeUndefined();
      expect(String(res.headers['set-cookie'])).toMatch(/sg_refresh=.*HttpOnly/);
      const me = await request(t.url).get('/api/v1/me').set(bearer(res.body.accessToken)).expect(200);
      expect(me.body.login).toBe(login);
      await status(t, qr.id, qr.pollToken)
        .expect(200)
        .then((r) => expect(r.body.status).toBe('consumed'));
    });

    describe('F1: the QR id alone is worth nothing (browser calls need the poll token)', () => {
      it('answers status, long poll and exchange without the token, or with another session’s, as for an unknown id', async () => {
        const qr = await confirmedQr(t, phone);
        const other = await createQr(t);
        for (const token of [undefined, other.pollToken, 'x'.repeat(43)]) {
          const s = await status(t, qr.id, token).expect(404);
          expect(s.body.code).toBe('qr.not_found');
          await request(t.url)
            .get(`/api/v1/qr-sessions/${qr.id}?waitSeconds=1&afterVersion=0`)
            .set('X-Poll-Token', token ?? '')
            .expect(404);
          const e = await exchange(t, qr.id, token).expect(404);
          expect(e.body.code).toBe('qr.not_found');
        }
        const unknown = await status(t, 'A'.repeat(43), qr.pollToken).expect(404);
        expect(unknown.body.message).toBe((await status(t, qr.id, other.pollToken)).body.message);
        // The rightful browser still gets it.
        await exchange(t, qr.id, qr.pollToken).expect(200);
      });
    });

    describe('F2: one-time use', () => {
      it('refuses a replay after the exchange with qr.consumed', async () => {
        const qr = await confirmedQr(t, phone);
        await exchange(t, qr.id, qr.pollToken).expect(200);
        const replay = await exchange(t, qr.id, qr.pollToken).expect(410);
        expect(replay.body.code).toBe('qr.consumed');
      });

      it('lets exactly one of 30 parallel exchanges through', async () => {
        const qr = await confirmedQr(t, phone);
        const results = await Promise.all(Array.from({ length: 30 }, () => exchange(t, qr.id, qr.pollToken)));
        expect(results.filter((r) => r.status === 200)).toHaveLength(1);
        expect(results.filter((r) => r.status === 410 && r.body.code === 'qr.consumed')).toHaveLength(29);
      });
    });

    describe('F3: ids cannot be guessed', () => {
      it('makes 1,000 distinct ids, each of at least 16 random bytes, base64url', async () => {
        const app = t.app.get(QrLoginService);
        const ids = new Set<string>();
        for (let i = 0; i < 1000; i++)
          ids.add((await app.create(undefined, { ip: '198.51.100.1', userAgent: null })).id);
        expect(ids.size).toBe(1000);
        for (const id of ids) {
          expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
          expect(Buffer.from(id, 'base64url').length).toBeGreaterThanOrEqual(16);
        }
      });
    });

    describe('F4: the server chooses the id', () => {
      it('refuses a client-supplied id (or any unknown field) with validation.failed', async () => {
        for (const body of [{ id: 'my-own-id' }, { pollToken: 'x' }, { returnTo: '/x', extra: 1 }]) {
          const res = await request(t.url).post('/api/v1/qr-sessions').send(body).expect(400);
          expect(res.body.code).toBe('validation.failed');
        }
      });
    });

    describe('F5: the approver is only who the mobile access token says', () => {
      it('refuses identity fields in scan and confirm bodies', async () => {
        const qr = await createQr(t);
        const victim = await createUser(t);
        const s = await request(t.url)
          .post(`/api/v1/qr-sessions/${qr.id}/scan`)
          .set(bearer(phone.accessToken))
          .send({ userId: victim.user.id })
          .expect(400);
        expect(s.body.code).toBe('validation.failed');
        await scan(t, phone, qr.id).expect(200);
        const c = await request(t.url)
          .post(`/api/v1/qr-sessions/${qr.id}/confirm`)
          .set(bearer(phone.accessToken))
          .set('X-Device-Signature', confirmSignature(phone, qr.id, qr.matchCode))
          .send({ matchCode: qr.matchCode, userId: victim.user.id })
          .expect(400);
        expect(c.body.code).toBe('validation.failed');
      });

      it('refuses a web session (403 auth.forbidden) and no session (401)', async () => {
        const qr = await createQr(t);
        const web = await loginWeb(t, login);
        expect((await scan(t, { accessToken: web.accessToken }, qr.id).expect(403)).body.code).toBe('auth.forbidden');
        await request(t.url).post(`/api/v1/qr-sessions/${qr.id}/scan`).send({}).expect(401);
      });
    });

    describe('F6: nothing personal reaches the browser before exchange', () => {
      it('has no marker of the user in any browser-side answer (bodies and headers) until the exchange', async () => {
        const qr = await request(t.url).post('/api/v1/qr-sessions').send({});
        const { id, pollToken } = qr.body as { id: string; pollToken: string; matchCode: string };
        const seen = [qr];
        await scan(t, phone, id).expect(200);
        seen.push(await status(t, id, pollToken));
        seen.push(
          await request(t.url)
            .get(`/api/v1/qr-sessions/${id}?waitSeconds=1&afterVersion=1`)
            .set('X-Poll-Token', pollToken),
        );
        await confirm(t, phone, id, qr.body.matchCode).expect(200);
        seen.push(await status(t, id, pollToken));
        seen.push(await request(t.url).get(`/api/v1/qr-sessions/${id}/qr.svg`));
        for (const res of seen) {
          const text = `${JSON.stringify(res.headers)}\n${res.text}`.toLowerCase();
          expect(text).not.toContain(marker.toLowerCase());
        }
        const done = await exchange(t, id, pollToken).expect(200);
        expect(JSON.stringify(done.body)).toContain(marker);
      });
    });

    describe('scanning and confirming', () => {
      it('lets exactly one of two phones racing to scan win; the same phone scanning again gets the same answer', async () => {
        const other = await signInPhone(t, (await createUser(t)).login);
        const qr = await createQr(t);
        const [a, b] = await Promise.all([scan(t, phone, qr.id), scan(t, other, qr.id)]);
        expect([a.status, b.status].sort()).toEqual([200, 409]);
        expect([a, b].find((r) => r.status === 409)!.body.code).toBe('qr.already_scanned');
        const winner = a.status === 200 ? phone : other;
        const again = await scan(t, winner, qr.id).expect(200);
        expect(again.body).toEqual((a.status === 200 ? a : b).body);
      });

      it('refuses a confirm from another user, or from another device of the same user (qr.not_scanner)', async () => {
        const qr = await createQr(t);
        await scan(t, phone, qr.id).expect(200);
        const stranger = await signInPhone(t, (await createUser(t)).login);
        const secondDevice = await signInPhone(t, login);
        for (const p of [stranger, secondDevice]) {
          const res = await confirm(t, p, qr.id, qr.matchCode).expect(403);
          expect(res.body.code).toBe('qr.not_scanner');
        }
        await confirm(t, phone, qr.id, qr.matchCode).expect(200);
      });

      it('cancels the login on a wrong number', async () => {
        const qr = await createQr(t);
        await scan(t, phone, qr.id).expect(200);
        const wrong = String((Number(qr.matchCode) + 1) % 100).padStart(2, '0');
        const res = await confirm(t, phone, qr.id, wrong).expect(400);
        expect(res.body.code).toBe('qr.match_mismatch');
        expect((await status(t, qr.id, qr.pollToken)).body.status).toBe('cancelled');
        expect((await confirm(t, phone, qr.id, qr.matchCode)).body.code).toBe('qr.wrong_state');
      });

      it('requires the device signature of a phone that registered a key, and changes nothing without it', async () => {
        const qr = await createQr(t);
        await scan(t, phone, qr.id).expect(200);
        // A valid signature, but over another number than the one sent.
        const otherNumber = qr.matchCode === '00' ? '01' : '00';
        for (const signature of [undefined, 'A'.repeat(86), confirmSignature(phone, qr.id, otherNumber)]) {
          const req = request(t.url).post(`/api/v1/qr-sessions/${qr.id}/confirm`).set(bearer(phone.accessToken));
          const res = await (signature ? req.set('X-Device-Signature', signature) : req)
            .send({ matchCode: qr.matchCode })
            .expect(401);
          expect(res.body.code).toBe('auth.device_signature_invalid');
        }
        expect((await status(t, qr.id, qr.pollToken)).body.status).toBe('scanned');
        await confirm(t, phone, qr.id, qr.matchCode).expect(200);
      });

      it('lets the scanning phone decline', async () => {
        const qr = await createQr(t);
        await scan(t, phone, qr.id).expect(200);
        await request(t.url)
          .post(`/api/v1/qr-sessions/${qr.id}/cancel`)
          .set(bearer(phone.accessToken))
          .send({})
          .expect(200, { status: 'cancelled' });
        expect((await exchange(t, qr.id, qr.pollToken)).body.code).toBe('qr.wrong_state');
      });

      it('refuses exchange before confirmation with qr.wrong_state', async () => {
        const qr = await createQr(t);
        expect((await exchange(t, qr.id, qr.pollToken).expect(409)).body.code).toBe('qr.wrong_state');
      });

      it('starts no web session for a user disabled between confirm and exchange (403 auth.account_disabled)', async () => {
        const { user, login: other } = await createUser(t);
        const otherPhone = await signInPhone(t, other);
        const qr = await confirmedQr(t, otherPhone);
        await t.app.get(UsersService).setStatus(user.id, 'disabled');
        expect((await exchange(t, qr.id, qr.pollToken).expect(403)).body.code).toBe('auth.account_disabled');
        const sessions = (await t.app
          .get(DataSource)
          .query(`SELECT kind FROM sessions WHERE user_id = $1`, [user.id])) as Array<{ kind: string }>;
        expect(sessions.map((s) => s.kind)).toEqual(['mobile']);
      });

      it('cancels an approved login when the approving phone signs out before the exchange (the browser sees cancelled)', async () => {
        const { login: other } = await createUser(t);
        const otherPhone = await signInPhone(t, other);
        const qr = await confirmedQr(t, otherPhone);
        const waiting = request(t.url)
          .get(`/api/v1/qr-sessions/${qr.id}?waitSeconds=10&afterVersion=3`)
          .set('X-Poll-Token', qr.pollToken);
        await request(t.url).post('/api/v1/auth/logout').set(bearer(otherPhone.accessToken)).expect(204);
        expect((await waiting.expect(200)).body).toMatchObject({ status: 'cancelled', version: 4 });
        expect((await exchange(t, qr.id, qr.pollToken).expect(409)).body.code).toBe('qr.wrong_state');
      });

      it('refuses the exchange of a login approved by a since revoked phone session even when no event told anyone', async () => {
        const { user, login: other } = await createUser(t);
        const otherPhone = await signInPhone(t, other);
        const qr = await confirmedQr(t, otherPhone);
        // Straight into the revocation store, as an instance that could not publish would leave it.
        await t.app.get<Store>(STORE).set(`auth:revoked:${otherPhone.sessionId}`, '1', 60_000);
        expect((await exchange(t, qr.id, qr.pollToken).expect(409)).body.code).toBe('qr.wrong_state');
        expect((await status(t, qr.id, qr.pollToken).expect(200)).body.status).toBe('cancelled');
        const web = (await t.app
          .get(DataSource)
          .query(`SELECT id FROM sessions WHERE user_id = $1 AND kind = 'web'`, [user.id])) as unknown[];
        expect(web).toEqual([]);
      });
    });

    describe('long poll', () => {
      it('answers at the change, not at the end of the wait (the latency is measured by npm run bench)', async () => {
        const qr = await createQr(t);
        const started = performance.now();
        const waiting = request(t.url)
          .get(`/api/v1/qr-sessions/${qr.id}?waitSeconds=30&afterVersion=1`)
          .set('X-Poll-Token', qr.pollToken);
        const pending = waiting.then((r) => ({ r, at: performance.now() }));
        await new Promise((r) => setTimeout(r, 300));
        await scan(t, phone, qr.id).expect(200);
        const scanAnsweredAt = performance.now();
        const { r, at } = await pending;
        expect(r.body).toMatchObject({ status: 'scanned', version: 2 });
        // The change was made (and published) before the scan answered; the poll may even answer first.
        expect(Math.max(0, at - scanAnsweredAt)).toBeLessThan(notHung(1_000));
        expect(at - started).toBeGreaterThan(250);
      });

      it('answers the unchanged status when the wait ends', async () => {
        const qr = await createQr(t);
        const started = performance.now();
        const res = await request(t.url)
          .get(`/api/v1/qr-sessions/${qr.id}?waitSeconds=1&afterVersion=1`)
          .set('X-Poll-Token', qr.pollToken)
          .expect(200);
        expect(res.body).toMatchObject({ status: 'pending', version: 1 });
        expect(performance.now() - started).toBeGreaterThanOrEqual(950);
      });

      it('answers at once when the version is already past afterVersion', async () => {
        const qr = await createQr(t);
        const res = await request(t.url)
          .get(`/api/v1/qr-sessions/${qr.id}?waitSeconds=30&afterVersion=0`)
          .set('X-Poll-Token', qr.pollToken)
          .expect(200);
        expect(res.body.version).toBe(1);
      });
    });
  });
});

describe('QR expiry in real time', () => {
  it('moves an unused QR code to expired on its own (nobody reading it) and tells a waiting browser', async () => {
    const t = await createTestApp({ config: testConfig({ LOG_LEVEL: 'warn', QR_TTL_SECONDS: '2' }) });
    try {
      // Nobody reads this one: only the sweeper can move it (find() never does).
      const unread = await createQr(t);
      const waited = await createQr(t);
      const res = await request(t.url)
        .get(`/api/v1/qr-sessions/${waited.id}?waitSeconds=30&afterVersion=1`)
        .set('X-Poll-Token', waited.pollToken)
        .expect(200);
      expect(res.body).toMatchObject({ status: 'expired', version: 2 });
      const sessions = t.app.get(QrSessionStore);
      const deadline = Date.now() + notHung(10_000);
      while ((await sessions.find(unread.id))?.status !== 'expired' && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await sessions.find(unread.id)).toMatchObject({ status: 'expired', version: 2 });
      expect((await exchange(t, waited.id, waited.pollToken).expect(410)).body.code).toBe('qr.expired');
    } finally {
      await t.close();
    }
  });
});
