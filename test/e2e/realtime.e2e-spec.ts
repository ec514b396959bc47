import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { NewLogin } from '../../src/auth/account-events.js';
import { APP_CONFIG, AUTH_CONFIG, type AppConfig, type AuthConfig } from '../../src/config/config.types.js';
import type { QrStatusView } from '../../src/qr-login/qr-session.js';
import { bearer, createUser, loginWeb } from '../support/accounts.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { confirm, confirmedQr, createQr, exchange, scan, signInPhone, type Phone } from '../support/qr.js';
import { backends, describeWith } from '../support/services.js';
import { connectSocket, refusedHandshake, type RecordingSocket } from '../support/sockets.js';
import { testConfig } from '../support/test-config.js';
import { mintToken, nowSeconds, validClaims } from '../support/tokens.js';

/**
 * The Socket.IO gateway on one instance, on the embedded defaults and (when
 * configured) on real Postgres and Redis: `/qr` for the browser, `/me` for the
 * phone, their handshakes, pushes, limits and hang-ups.
 */

const CHROME_ON_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36';
/** The text with one character in its last part changed (never a no-op, never only padding bits). */
const tamper = (text: string) => {
  const i = text.length - 10;
  return `${text.slice(0, i)}${text[i] === 'A' ? 'B' : 'A'}${text.slice(i + 1)}`;
};
const statuses = (s: RecordingSocket) => s.all<QrStatusView>('qr.status').map((v) => [v.status, v.version]);

describe.each(backends('rt'))('Socket.IO on %s', (_name, need, backend) => {
  describeWith(need, 'one instance', () => {
    let t: TestApp;
    let dispose: () => Promise<void>;
    let phone: Phone;
    let login: string;
    let userId: string;
    const open: RecordingSocket[] = [];
    const track = (s: RecordingSocket) => (open.push(s), s);

    beforeAll(async () => {
      const b = await backend();
      dispose = b.dispose;
      t = await createTestApp({
        database: b.database,
        config: testConfig({ LOG_LEVEL: 'info', SOCKET_MAX_PER_QR: '4', ...b.env }),
      });
      const created = await createUser(t);
      ({ login } = created);
      userId = created.user.id;
      phone = await signInPhone(t, login);
    });

    afterAll(async () => {
      for (const s of open) s.close();
      await t?.close();
      await dispose?.();
    });

    describe('/qr', () => {
      it('sends pending at once, then each state in order over a whole login, then hangs up', async () => {
        const qr = await createQr(t);
        const browser = track(await connectSocket(t.url, '/qr', { id: qr.id, pollToken: qr.pollToken }));
        expect(await browser.nth<QrStatusView>('qr.status', 0)).toEqual({
          id: qr.id,
          status: 'pending',
          version: 1,
          expiresAt: qr.expiresAt,
        });
        await scan(t, phone, qr.id).expect(200);
        await browser.nth('qr.status', 1);
        await confirm(t, phone, qr.id, qr.matchCode).expect(200);
        await browser.nth('qr.status', 2);
        await exchange(t, qr.id, qr.pollToken).expect(200);
        expect(await browser.disconnected).toBe('io server disconnect');
        expect(statuses(browser)).toEqual([
          ['pending', 1],
          ['scanned', 2],
          ['confirmed', 3],
          ['consumed', 4],
        ]);
        // Only statuses: no personal data, no token, nothing else.
        expect(browser.received.map(([event]) => event)).toEqual(['qr.status', 'qr.status', 'qr.status', 'qr.status']);
        for (const [, payload] of browser.received)
          expect(Object.keys(payload as object).sort()).toEqual(['expiresAt', 'id', 'status', 'version']);
      });

      it('sends the current state to a late connection, and a terminal one then hangs up at once', async () => {
        const qr = await confirmedQr(t, phone);
        const late = track(await connectSocket(t.url, '/qr', { id: qr.id, pollToken: qr.pollToken }));
        expect(await late.nth<QrStatusView>('qr.status', 0)).toMatchObject({ status: 'confirmed', version: 3 });
        await request(t.url)
          .post(`/api/v1/qr-sessions/${qr.id}/exchange`)
          .set('X-Poll-Token', qr.pollToken)
          .send({})
          .expect(200);
        await late.disconnected;
        expect(statuses(late)).toEqual([
          ['confirmed', 3],
          ['consumed', 4],
        ]);

        const after = await connectSocket(t.url, '/qr', { id: qr.id, pollToken: qr.pollToken });
        await after.disconnected;
        expect(statuses(after)).toEqual([['consumed', 4]]);
      });

      it('tells the browser of a cancel on the phone', async () => {
        const qr = await createQr(t);
        const browser = track(await connectSocket(t.url, '/qr', { id: qr.id, pollToken: qr.pollToken }));
        await scan(t, phone, qr.id).expect(200);
        await request(t.url)
          .post(`/api/v1/qr-sessions/${qr.id}/cancel`)
          .set(bearer(phone.accessToken))
          .send({})
          .expect(200);
        await browser.disconnected;
        expect(statuses(browser)).toEqual([
          ['pending', 1],
          ['scanned', 2],
          ['cancelled', 3],
        ]);
      });

      it('refuses a bad pair with qr.not_found, exactly as for an unknown id (F1)', async () => {
        const qr = await createQr(t);
        const other = await createQr(t);
        for (const auth of [
          { id: qr.id },
          { id: qr.id, pollToken: other.pollToken },
          { id: qr.id, pollToken: tamper(qr.pollToken) },
          { id: 'A'.repeat(43), pollToken: qr.pollToken },
          { id: qr.id, pollToken: 12 },
          {},
        ]) {
          const error = await refusedHandshake(t.url, '/qr', auth);
          expect(error.message).toBe('qr.not_found');
          expect(error.data).toEqual({
            code: 'qr.not_found',
            message: expect.any(String),
            requestId: expect.any(String),
          });
        }
      });

      it('caps the sockets of one QR session (SOCKET_MAX_PER_QR, 4 here) and admits again once one closes', async () => {
        const qr = await createQr(t);
        const auth = { id: qr.id, pollToken: qr.pollToken };
        const sockets = [];
        for (let i = 0; i < 4; i++) sockets.push(track(await connectSocket(t.url, '/qr', auth)));
        const error = await refusedHandshake(t.url, '/qr', auth);
        expect(error.data).toMatchObject({ code: 'rate_limited' });
        sockets[0]!.close();
        await new Promise((r) => setTimeout(r, 100));
        track(await connectSocket(t.url, '/qr', auth));
      });

      it('refuses a handshake from a foreign Origin, on either transport, and admits its own origin and none', async () => {
        const qr = await createQr(t);
        const auth = { id: qr.id, pollToken: qr.pollToken };
        for (const transports of [['websocket'], ['polling']] as const) {
          await expect(
            connectSocket(t.url, '/qr', auth, {
              transports: [...transports],
              extraHeaders: { Origin: 'https://evil.example' },
            }),
          ).rejects.toThrow();
        }
        const own = t.app.get<AppConfig>(APP_CONFIG).publicUrl;
        track(await connectSocket(t.url, '/qr', auth, { transports: ['polling'], extraHeaders: { Origin: own } }));
        // A page served by this host (e.g. a phone on the LAN at http://192.168.…:3000) is same-origin.
        track(await connectSocket(t.url, '/qr', auth, { extraHeaders: { Origin: t.url } }));
        track(await connectSocket(t.url, '/qr', auth));
      });

      it('works over HTTP long-polling too (the transport for clients without websockets)', async () => {
        const qr = await createQr(t);
        const browser = track(
          await connectSocket(t.url, '/qr', { id: qr.id, pollToken: qr.pollToken }, { transports: ['polling'] }),
        );
        await browser.nth('qr.status', 0);
        await scan(t, phone, qr.id).expect(200);
        expect(await browser.nth<QrStatusView>('qr.status', 1)).toMatchObject({ status: 'scanned', version: 2 });
      });
    });

    describe('/me', () => {
      it('refuses a missing, tampered, expired or web-session token, and a revoked session', async () => {
        const web = await loginWeb(t, login);
        const expired = await mintToken(t, {
          ...validClaims(t.app.get<AuthConfig>(AUTH_CONFIG).issuer, { sub: userId, sid: phone.sessionId }, 60),
          knd: 'mobile',
          exp: nowSeconds() - 5,
          iat: nowSeconds() - 65,
        });
        const cases: Array<[Record<string, unknown>, string]> = [
          [{}, 'auth.unauthenticated'],
          [{ token: 'not-a-jwt' }, 'auth.unauthenticated'],
          [{ token: tamper(phone.accessToken) }, 'auth.unauthenticated'],
          [{ token: expired }, 'auth.unauthenticated'],
          [{ token: web.accessToken }, 'auth.forbidden'],
        ];
        for (const [auth, code] of cases) {
          const error = await refusedHandshake(t.url, '/me', auth);
          expect({ auth: Object.keys(auth), message: error.message, code: error.data?.code }).toEqual({
            auth: Object.keys(auth),
            message: code,
            code,
          });
        }
        const revokedPhone = await signInPhone(t, login);
        await request(t.url).post('/api/v1/auth/logout').set(bearer(revokedPhone.accessToken)).expect(204);
        expect((await refusedHandshake(t.url, '/me', { token: revokedPhone.accessToken })).message).toBe(
          'auth.unauthenticated',
        );
      });

      it('accepts the token in an Authorization header as well', async () => {
        track(
          await connectSocket(
            t.url,
            '/me',
            {},
            { transports: ['polling'], extraHeaders: { Authorization: `Bearer ${phone.accessToken}` } },
          ),
        );
      });

      it('tells the phone of every new web session of its user (QR and password), with who and where', async () => {
        const me = track(await connectSocket(t.url, '/me', { token: phone.accessToken }));
        const qr = await confirmedQr(t, phone);
        await exchange(t, qr.id, qr.pollToken).set('User-Agent', CHROME_ON_WINDOWS).expect(200);
        const viaQr = await me.nth<NewLogin>('login.new', 0);
        expect(viaQr).toEqual({
          sessionId: expect.any(String),
          createdVia: 'qr',
          createdAt: expect.any(String),
          ip: expect.any(String),
          browser: expect.stringMatching(/^Chrome 142/),
          os: 'Windows 10',
          deviceType: 'desktop',
          location: null,
        });
        const sessions = await request(t.url).get('/api/v1/me/sessions').set(bearer(phone.accessToken)).expect(200);
        expect((sessions.body.items as Array<{ id: string }>).map((s) => s.id)).toContain(viaQr.sessionId);

        await loginWeb(t, login);
        expect(await me.nth<NewLogin>('login.new', 1)).toMatchObject({ createdVia: 'password' });
        // A phone's own sign-in is not a "new login" to warn about.
        await signInPhone(t, login);
        await new Promise((r) => setTimeout(r, 200));
        expect(me.all('login.new')).toHaveLength(2);
      });

      it('sends the phone the status of a QR session it scanned', async () => {
        const me = track(await connectSocket(t.url, '/me', { token: phone.accessToken }));
        const qr = await createQr(t);
        await scan(t, phone, qr.id).expect(200);
        await confirm(t, phone, qr.id, qr.matchCode).expect(200);
        await exchange(t, qr.id, qr.pollToken).expect(200);
        await me.nth('qr.status', 2);
        expect(me.all<QrStatusView>('qr.status').map((v) => [v.id, v.status])).toEqual([
          [qr.id, 'scanned'],
          [qr.id, 'confirmed'],
          [qr.id, 'consumed'],
        ]);
      });

      it('sends session.revoked and hangs up when the session is revoked', async () => {
        const other = await signInPhone(t, login);
        const me = track(await connectSocket(t.url, '/me', { token: other.accessToken }));
        const web = await loginWeb(t, login);
        await request(t.url).delete(`/api/v1/me/sessions/${other.sessionId}`).set(bearer(web.accessToken)).expect(204);
        expect(await me.nth('session.revoked', 0)).toEqual({ sessionId: other.sessionId });
        expect(await me.disconnected).toBe('io server disconnect');
      });

      it('hangs up with auth.unauthenticated when the access token expires, unless refreshed with one of the same session', async () => {
        const short = (seconds: number) =>
          mintToken(t, {
            ...validClaims(t.app.get<AuthConfig>(AUTH_CONFIG).issuer, { sub: userId, sid: phone.sessionId }, seconds),
            knd: 'mobile',
            did: phone.deviceId,
            amr: ['pwd', 'mob'],
          });
        // Tokens carry whole seconds: a 3-second one has 2 to 3 seconds left.
        const kept = track(await connectSocket(t.url, '/me', { token: await short(3) }));
        const dropped = track(await connectSocket(t.url, '/me', { token: await short(3) }));
        const answer = await kept.socket.timeout(2_000).emitWithAck('auth.refresh', { token: await short(60) });
        expect(answer).toEqual({ expiresAt: expect.any(String) });
        const wrong = await kept.socket
          .timeout(2_000)
          .emitWithAck('auth.refresh', { token: (await signInPhone(t, login)).accessToken });
        expect(wrong).toMatchObject({ error: { code: 'auth.forbidden' } });
        const invalid = await kept.socket.timeout(2_000).emitWithAck('auth.refresh', { nope: true });
        expect(invalid).toMatchObject({ error: { code: 'validation.failed' } });

        expect(await dropped.disconnected).toBe('io server disconnect');
        expect(dropped.all('exception')).toEqual([
          { code: 'auth.unauthenticated', message: expect.any(String), requestId: expect.any(String) },
        ]);
        await new Promise((r) => setTimeout(r, 1_000));
        expect(kept.socket.connected).toBe(true);
      }, 15_000);
    });

    it('hangs up only the namespace it is done with when /qr and /me share one connection', async () => {
      const qr = await createQr(t);
      const me = track(await connectSocket(t.url, '/me', { token: phone.accessToken }, { multiplex: true }));
      const browser = track(
        await connectSocket(t.url, '/qr', { id: qr.id, pollToken: qr.pollToken }, { multiplex: true }),
      );
      expect(browser.socket.io).toBe(me.socket.io);
      await scan(t, phone, qr.id).expect(200);
      await confirm(t, phone, qr.id, qr.matchCode).expect(200);
      await exchange(t, qr.id, qr.pollToken).set('User-Agent', CHROME_ON_WINDOWS).expect(200);
      await browser.disconnected;
      // The phone's channel stays up and still hears of the new web session.
      expect(await me.nth<NewLogin>('login.new', 0)).toMatchObject({ createdVia: 'qr' });
      expect(me.socket.connected).toBe(true);
    });

    it('reports sockets, events and refusals on /metrics', async () => {
      const qr = await createQr(t);
      const s = track(await connectSocket(t.url, '/qr', { id: qr.id, pollToken: qr.pollToken }));
      await s.nth('qr.status', 0);
      const metrics = (await request(t.url).get('/metrics').expect(200)).text;
      expect(metrics).toMatch(/realtime_sockets\{[^}]*namespace="\/qr"[^}]*\} [1-9]/);
      expect(metrics).toMatch(/realtime_events_emitted_total\{[^}]*namespace="\/qr",event="qr.status"[^}]*\} [1-9]/);
      expect(metrics).toMatch(
        /realtime_handshakes_refused_total\{[^}]*namespace="\/qr",code="qr.not_found"[^}]*\} [1-9]/,
      );
      expect(metrics).toContain('realtime_adapter_errors_total');
    });

    it('never writes a poll token or an access token to the log', () => {
      const text = t.log.text;
      expect(text).not.toContain(phone.accessToken);
      expect(text).not.toMatch(/pollToken":"[A-Za-z0-9_-]{20,}/);
    });
  });
});
