import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { FakeClock } from '../../support/fake-clock.js';
import { testConfig } from '../../support/test-config.js';
import type { AuditInput, AuditService } from '../../../src/audit/audit.service.js';
import type { Principal } from '../../../src/auth/auth.principal.js';
import type { AuthService } from '../../../src/auth/auth.service.js';
import type { SessionsService } from '../../../src/auth/sessions/sessions.service.js';
import { CryptoService } from '../../../src/common/crypto/crypto.service.js';
import type { QrConfig } from '../../../src/config/config.types.js';
import { MemoryStore } from '../../../src/store/memory.store.js';
import { StoreUnavailableError } from '../../../src/store/store.errors.js';
import type { UsersService } from '../../../src/users/users.service.js';
import { QrEventsHub } from '../../../src/qr-login/qr-events.hub.js';
import { QrStatusService } from '../../../src/qr-login/qr-status.service.js';
import { QrApprovingDevice } from '../../../src/qr-login/qr-approving-device.js';
import { QrAuditTrail } from '../../../src/qr-login/qr-audit-trail.js';
import { QrLoginService, type CreatedQrSession } from '../../../src/qr-login/qr-login.service.js';
import { QrExchangeService } from '../../../src/qr-login/qr-exchange.service.js';
import { QrApproverRevocation } from '../../../src/qr-login/qr-approver-revocation.js';
import { QrExpirySweeper } from '../../../src/qr-login/qr-expiry.sweeper.js';
import { QrRequesterService } from '../../../src/qr-login/qr-requester.service.js';
import { QrPollLimits } from '../../../src/qr-login/qr-rate-limits.js';
import { RateLimiter } from '../../../src/rate-limit/rate-limiter.js';
import type { QrStatusView } from '../../../src/qr-login/qr-session.js';
import { QR_EVENTS_CHANNEL, QR_EXCHANGE_LEASE_MS, QrSessionStore } from '../../../src/qr-login/qr-sessions.store.js';
import { QrLoginError } from '../../../src/qr-login/qr-login.errors.js';
import { GeoIpReader } from '../../../src/requester/geoip.reader.js';
import { RequesterContextBuilder } from '../../../src/requester/requester-context.builder.js';

const CONFIG = testConfig();
const TTL_MS = CONFIG.qr.ttlSeconds * 1000;
const BROWSER = {
  ip: '198.51.100.7',
  userAgent:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36',
};
const PHONE_CONTEXT = { ip: '198.51.100.9', userAgent: 'ScanGate/1.0 (Android 15)' };

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

const mobile = (user: string, session: string): Principal => ({
  userId: user,
  sessionId: session,
  kind: 'mobile',
  deviceId: `device-of-${session}`,
  roles: ['user'],
  amr: ['pwd', 'mob'],
});
/** The phone that scans in most tests; another user's phone; a second phone of the same user; a web session. */
const A = mobile('user-a', 'phone-a');
const STRANGER = mobile('user-c', 'phone-c');
const SECOND_DEVICE = mobile('user-a', 'phone-a2');
const WEB: Principal = {
  userId: 'user-a',
  sessionId: 'web-a',
  kind: 'web',
  deviceId: null,
  roles: ['user'],
  amr: ['pwd'],
};

/** What this spec's service is built from: real store, hub and requester context; simple fakes for the account side. */
/** A QR login created by BROWSER, scanned and confirmed by `phone` (keyless, as this spec's config allows). */
async function confirmedBy(service: QrLoginService, phone: Principal): Promise<CreatedQrSession> {
  const qr = await service.create(undefined, BROWSER);
  await service.scan(phone, qr.id, undefined, PHONE_CONTEXT);
  await service.confirm(phone, qr.id, qr.matchCode, undefined, PHONE_CONTEXT);
  return qr;
}

function build(qr: Partial<QrConfig> = {}) {
  const clock = new FakeClock();
  const store = new MemoryStore(clock);
  const sessions = new QrSessionStore(store, clock);
  const hub = new QrEventsHub(store);
  const audit: AuditInput[] = [];
  const deviceKeys = new Map<string, KeyObject>();
  const revoked = new Set<string>();
  const discarded: string[] = [];
  const signedIn: Array<{ userId: string; kind: string; createdVia: string }> = [];
  let webSessions = 0;
  /** Set to make the next sign-ins fail as a lost database connection does. */
  const database = { down: false };
  const browsers = new QrStatusService(
    sessions,
    hub,
    new CryptoService(),
    clock,
    new QrPollLimits(new RateLimiter(store, CONFIG.app), { ...CONFIG.qr, ...qr }),
  );
  const deviceSessions = {
    devicePublicKey: async (id: string) => deviceKeys.get(id) ?? null,
    isRevoked: async (id: string) => revoked.has(id),
    discard: async (id: string) => void discarded.push(id),
  } as unknown as SessionsService;
  const trail = new QrAuditTrail({
    record: async (input: AuditInput) => {
      audit.push(input);
    },
  } as unknown as AuditService);
  const service = new QrLoginService(
    sessions,
    browsers,
    new QrRequesterService(new RequesterContextBuilder(GeoIpReader.none())),
    new CryptoService(),
    clock,
    new QrApprovingDevice(deviceSessions, { ...CONFIG.qr, ...qr }),
    trail,
    { ...CONFIG.qr, ...qr },
    CONFIG.app,
  );
  const revocation = new QrApproverRevocation(sessions, trail);
  const exchanges = new QrExchangeService(
    sessions,
    browsers,
    {
      signIn: async (user: { id: string }, kind: string, createdVia: string) => {
        if (database.down) throw new Error('Connection terminated unexpectedly');
        signedIn.push({ userId: user.id, kind, createdVia });
        return {
          user,
          session: { id: `web-session-${++webSessions}` },
          accessToken: 'access',
          refreshToken: 'refresh',
          expiresIn: 600,
        };
      },
    } as unknown as AuthService,
    { get: async (id: string) => ({ id, displayName: `Name of ${id}`, avatarUrl: null }) } as unknown as UsersService,
    deviceSessions,
    revocation,
    trail,
  );
  const sweeper = new QrExpirySweeper(sessions, clock);
  return {
    clock,
    store,
    sessions,
    hub,
    service,
    exchanges,
    revocation,
    sweeper,
    browsers,
    audit,
    deviceKeys,
    revoked,
    discarded,
    signedIn,
    database,
  };
}

describe('QrLoginService (real store, fake clock)', () => {
  let clock: FakeClock;
  let store: MemoryStore;
  let sessions: QrSessionStore;
  let hub: QrEventsHub;
  let service: QrLoginService;
  let exchanges: QrExchangeService;
  let revocation: QrApproverRevocation;
  let sweeper: QrExpirySweeper;
  let browsers: QrStatusService;
  let audit: AuditInput[];
  let deviceKeys: Map<string, KeyObject>;

  beforeEach(async () => {
    ({ clock, store, sessions, hub, service, exchanges, revocation, sweeper, browsers, audit, deviceKeys } = build());
    await hub.onModuleInit();
  });

  afterEach(async () => {
    await hub.onApplicationShutdown();
    store.onApplicationShutdown();
  });

  const wrongCode = (qr: CreatedQrSession) => String((Number(qr.matchCode) + 1) % 100).padStart(2, '0');
  const create = () => service.create(undefined, BROWSER);
  const scan = (qr: CreatedQrSession, by: Principal = A) => service.scan(by, qr.id, undefined, PHONE_CONTEXT);
  const confirm = (qr: CreatedQrSession, by: Principal = A, code = qr.matchCode) =>
    service.confirm(by, qr.id, code, undefined, PHONE_CONTEXT);
  const cancel = (qr: CreatedQrSession, by: Principal = A) => service.cancel(by, qr.id, PHONE_CONTEXT);
  const exchange = (qr: CreatedQrSession, token = qr.pollToken) => exchanges.exchange(qr.id, token, BROWSER);
  const stateOf = async (qr: CreatedQrSession) => (await sessions.find(qr.id))?.status;

  /** A session brought into each state, by phone A where a phone is involved. */
  const STATES: Record<string, () => Promise<CreatedQrSession>> = {
    pending: create,
    scanned: async () => {
      const qr = await create();
      await scan(qr);
      return qr;
    },
    confirmed: async () => {
      const qr = await STATES.scanned!();
      await confirm(qr);
      return qr;
    },
    consumed: async () => {
      const qr = await STATES.confirmed!();
      await exchange(qr);
      return qr;
    },
    cancelled: async () => {
      const qr = await STATES.scanned!();
      await cancel(qr);
      return qr;
    },
    'expired (from pending)': async () => {
      const qr = await create();
      clock.advance(TTL_MS);
      return qr;
    },
    'expired (from scanned)': async () => {
      const qr = await STATES.scanned!();
      clock.advance(TTL_MS);
      return qr;
    },
    'expired (from confirmed)': async () => {
      const qr = await STATES.confirmed!();
      clock.advance(TTL_MS);
      return qr;
    },
  };

  async function codeOf(action: Promise<unknown>): Promise<string> {
    try {
      await action;
      return 'ok';
    } catch (error) {
      return (error as { code?: string }).code ?? String(error);
    }
  }

  describe('scan refusals in each state', () => {
    it.each([
      ['pending', 'ok', 'ok'],
      ['scanned', 'ok', 'qr.already_scanned'],
      ['confirmed', undefined, 'qr.already_scanned'],
      ['consumed', 'qr.consumed', 'qr.consumed'],
      ['cancelled', 'qr.wrong_state', 'qr.wrong_state'],
      ['expired (from pending)', 'qr.expired', 'qr.expired'],
      ['expired (from scanned)', 'qr.expired', 'qr.expired'],
      ['expired (from confirmed)', 'qr.expired', 'qr.expired'],
    ])('%s: the scanning phone gets %s, another phone %s', async (state, sameAnswer, otherAnswer) => {
      if (sameAnswer !== undefined) expect(await codeOf(scan(await STATES[state]!(), A))).toBe(sameAnswer);
      expect(await codeOf(scan(await STATES[state]!(), STRANGER))).toBe(otherAnswer);
      expect(await codeOf(scan(await STATES[state]!(), SECOND_DEVICE))).toBe(otherAnswer === 'ok' ? 'ok' : otherAnswer);
    });

    it('gives the same phone the same answer when it scans again, without a second transition', async () => {
      const qr = await create();
      const first = await scan(qr);
      expect(await scan(qr)).toEqual(first);
      expect(await sessions.find(qr.id)).toMatchObject({ status: 'scanned', version: 2 });
      expect(first.matchCodeChoices).toHaveLength(3);
      expect(first.matchCodeChoices).toContain(qr.matchCode);
      expect(audit.filter((e) => e.type === 'qr.scanned')).toHaveLength(1);
    });

    it('answers qr.not_found for an unknown id, and auth.forbidden to a web session', async () => {
      expect(await codeOf(service.scan(A, 'A'.repeat(43), undefined, PHONE_CONTEXT))).toBe('qr.not_found');
      const qr = await create();
      expect(await codeOf(scan(qr, WEB))).toBe('auth.forbidden');
      expect(await codeOf(scan(qr, { ...A, deviceId: null }))).toBe('auth.forbidden');
      expect(await stateOf(qr)).toBe('pending');
    });

    it('lets exactly one of 20 phones racing to scan win', async () => {
      const qr = await create();
      const phones = Array.from({ length: 20 }, (_, i) => mobile(`user-${i}`, `phone-${i}`));
      const codes = await Promise.all(phones.map((p) => codeOf(scan(qr, p))));
      expect(codes.filter((c) => c === 'ok')).toHaveLength(1);
      expect(codes.filter((c) => c === 'qr.already_scanned')).toHaveLength(19);
    });
  });

  describe('confirm refusals in each state', () => {
    it.each([
      ['pending', 'qr.wrong_state', 'qr.wrong_state'],
      ['scanned', 'ok', 'qr.not_scanner'],
      ['confirmed', 'qr.wrong_state', 'qr.not_scanner'],
      ['consumed', 'qr.consumed', 'qr.not_scanner'],
      ['cancelled', 'qr.wrong_state', 'qr.not_scanner'],
      ['expired (from pending)', 'qr.expired', 'qr.expired'],
      ['expired (from scanned)', 'qr.expired', 'qr.not_scanner'],
      ['expired (from confirmed)', 'qr.expired', 'qr.not_scanner'],
    ])('%s: the scanner gets %s, another user or device %s', async (state, scannerAnswer, otherAnswer) => {
      expect(await codeOf(confirm(await STATES[state]!(), A))).toBe(scannerAnswer);
      for (const other of [STRANGER, SECOND_DEVICE]) {
        const qr = await STATES[state]!();
        const before = await sessions.find(qr.id);
        expect(await codeOf(confirm(qr, other))).toBe(otherAnswer);
        if (!state.startsWith('expired')) expect(await sessions.find(qr.id)).toEqual(before);
      }
    });

    it('cancels the login on a wrong number (qr.match_mismatch), audited with the reason', async () => {
      const qr = await STATES.scanned!();
      expect(await codeOf(confirm(qr, A, wrongCode(qr)))).toBe('qr.match_mismatch');
      expect(await sessions.find(qr.id)).toMatchObject({
        status: 'cancelled',
        cancelReason: 'match_mismatch',
        version: 3,
      });
      await settle();
      expect(audit.filter((e) => e.type === 'qr.cancelled')).toEqual([
        expect.objectContaining({ userId: 'user-a', detail: expect.objectContaining({ reason: 'match_mismatch' }) }),
      ]);
      expect(await codeOf(confirm(qr))).toBe('qr.wrong_state');
    });

    it('cancels on a confirm without any number when matching is on', async () => {
      const qr = await STATES.scanned!();
      expect(await codeOf(service.confirm(A, qr.id, undefined, undefined, PHONE_CONTEXT))).toBe('qr.match_mismatch');
      expect(await stateOf(qr)).toBe('cancelled');
    });

    // PROTOCOL.md: `qr.match_mismatch` means "the session becomes cancelled". A session
    // that is no longer `scanned` cannot become cancelled, so a wrong number there must
    // get the code of the state it is in, exactly like a right number does.
    it.each([
      ['confirmed', 'qr.wrong_state', 'confirmed'],
      ['consumed', 'qr.consumed', 'consumed'],
      ['cancelled', 'qr.wrong_state', 'cancelled'],
      ['expired (from scanned)', 'qr.expired', 'expired'],
      ['expired (from confirmed)', 'qr.expired', 'expired'],
    ])('%s: a wrong number gets %s, not qr.match_mismatch, and the session stays %s', async (state, answer, after) => {
      const qr = await STATES[state]!();
      expect(await codeOf(confirm(qr, A, wrongCode(qr)))).toBe(answer);
      expect(await stateOf(qr)).toBe(after);
    });

    it('refuses a web session with auth.forbidden and changes nothing', async () => {
      const qr = await STATES.scanned!();
      expect(await codeOf(confirm(qr, WEB))).toBe('auth.forbidden');
      expect(await codeOf(cancel(qr, WEB))).toBe('auth.forbidden');
      expect(await stateOf(qr)).toBe('scanned');
    });

    it('answers qr.not_found for an unknown id', async () => {
      expect(await codeOf(service.confirm(A, 'A'.repeat(43), '12', undefined, PHONE_CONTEXT))).toBe('qr.not_found');
      expect(await codeOf(service.cancel(A, 'A'.repeat(43), PHONE_CONTEXT))).toBe('qr.not_found');
    });
  });

  describe('cancel refusals in each state', () => {
    it.each([
      ['pending', 'qr.wrong_state', 'qr.wrong_state'],
      ['scanned', 'ok', 'qr.not_scanner'],
      ['confirmed', 'qr.wrong_state', 'qr.not_scanner'],
      ['consumed', 'qr.consumed', 'qr.not_scanner'],
      ['cancelled', 'qr.wrong_state', 'qr.not_scanner'],
      ['expired (from pending)', 'qr.expired', 'qr.expired'],
      ['expired (from scanned)', 'qr.expired', 'qr.not_scanner'],
    ])('%s: the scanner gets %s, another user or device %s', async (state, scannerAnswer, otherAnswer) => {
      expect(await codeOf(cancel(await STATES[state]!(), A))).toBe(scannerAnswer);
      for (const other of [STRANGER, SECOND_DEVICE]) {
        const qr = await STATES[state]!();
        const before = await sessions.find(qr.id);
        expect(await codeOf(cancel(qr, other))).toBe(otherAnswer);
        if (!state.startsWith('expired')) expect(await sessions.find(qr.id)).toEqual(before);
      }
    });

    it('records the decline', async () => {
      const qr = await STATES.scanned!();
      await cancel(qr);
      expect(await sessions.find(qr.id)).toMatchObject({ status: 'cancelled', cancelReason: 'declined' });
      expect(audit.filter((e) => e.type === 'qr.cancelled')).toEqual([
        expect.objectContaining({ detail: expect.objectContaining({ reason: 'declined' }) }),
      ]);
    });
  });

  describe('exchange in each state', () => {
    it.each([
      ['pending', 'qr.wrong_state'],
      ['scanned', 'qr.wrong_state'],
      ['confirmed', 'ok'],
      ['consumed', 'qr.consumed'],
      ['cancelled', 'qr.wrong_state'],
      ['expired (from pending)', 'qr.expired'],
      ['expired (from confirmed)', 'qr.expired'],
    ])('%s: %s', async (state, answer) => {
      const qr = await STATES[state]!();
      expect(await codeOf(exchange(qr))).toBe(answer);
    });

    it('is qr.not_found without the poll token, with another session’s, or for an unknown id', async () => {
      const qr = await STATES.confirmed!();
      const other = await create();
      for (const token of [undefined, '', other.pollToken, qr.id])
        expect(await codeOf(exchanges.exchange(qr.id, token, BROWSER))).toBe('qr.not_found');
      expect(await codeOf(exchanges.exchange('A'.repeat(43), qr.pollToken, BROWSER))).toBe('qr.not_found');
      expect(await stateOf(qr)).toBe('confirmed');
    });

    it('signs in the scanning user on the web (createdVia qr) and audits the web session and the approver', async () => {
      const built = build();
      await built.hub.onModuleInit();
      try {
        const qr = await built.service.create('/after', BROWSER);
        await built.service.scan(A, qr.id, undefined, PHONE_CONTEXT);
        await built.service.confirm(A, qr.id, qr.matchCode, undefined, PHONE_CONTEXT);
        const signed = await built.exchanges.exchange(qr.id, qr.pollToken, BROWSER);
        expect(signed).toMatchObject({ session: { id: 'web-session-1' }, returnTo: '/after' });
        expect(built.signedIn).toEqual([{ userId: 'user-a', kind: 'web', createdVia: 'qr' }]);
        expect(built.audit.find((e) => e.type === 'qr.consumed')).toMatchObject({
          userId: 'user-a',
          sessionId: 'web-session-1',
          detail: { approvedBy: 'phone-a' },
        });
      } finally {
        await built.hub.onApplicationShutdown();
        built.store.onApplicationShutdown();
      }
    });
  });

  describe('status and long poll', () => {
    it('answers the status view only, with the poll token', async () => {
      const qr = await create();
      expect(await browsers.status(qr.id, qr.pollToken)).toEqual({
        id: qr.id,
        status: 'pending',
        version: 1,
        expiresAt: qr.expiresAt,
      });
      expect(await codeOf(browsers.status(qr.id, undefined))).toBe('qr.not_found');
    });

    it('wakes a long poll with the change', async () => {
      const qr = await create();
      const waiting = new Promise((resolve) => void browsers.listen(qr.id, qr.pollToken, 1, 5, resolve));
      await settle();
      expect(hub.waiting).toBe(1);
      await scan(qr);
      expect(await waiting).toMatchObject({ status: 'scanned', version: 2 });
      expect(hub.waiting).toBe(0);
    });

    it('answers expired once the clock passes expiresAt', async () => {
      const qr = await create();
      clock.advance(TTL_MS);
      expect(await browsers.status(qr.id, qr.pollToken)).toMatchObject({ status: 'expired', version: 2 });
    });
  });

  describe('audit', () => {
    it('writes one event per transition of a flow, without the poll token or the full id', async () => {
      const qr = await STATES.consumed!();
      const declined = await STATES.cancelled!();
      const lapsed = await create();
      clock.advance(TTL_MS);
      await sweeper.sweep();
      await settle();
      const of = (q: CreatedQrSession) => audit.filter((e) => e.detail?.qr === q.id.slice(0, 8)).map((e) => e.type);
      expect(of(qr)).toEqual(['qr.created', 'qr.scanned', 'qr.confirmed', 'qr.consumed']);
      expect(of(declined)).toEqual(['qr.created', 'qr.scanned', 'qr.cancelled']);
      expect(of(lapsed)).toEqual(['qr.created', 'qr.expired']);
      const text = JSON.stringify(audit);
      for (const q of [qr, declined, lapsed]) {
        expect(text).not.toContain(q.id);
        expect(text).not.toContain(q.pollToken);
      }
    });

    // Expiry is a transition like any other (issue 4: "one event per transition"), and
    // most sessions that lapse are noticed by a status read (the browser polls) before
    // the sweeper's next pass. `QrSessionStore.read`/`transition` then move the session
    // to `expired` and take it off the due set, so the sweeper never sees it and
    // nothing writes `qr.expired`.
    it.each([
      ['a status read', (qr: CreatedQrSession) => browsers.status(qr.id, qr.pollToken)],
      ['a scan', (qr: CreatedQrSession) => scan(qr).catch(() => undefined)],
      ['an exchange', (qr: CreatedQrSession) => exchange(qr).catch(() => undefined)],
    ])(
      'audits qr.expired exactly once when %s finds the session past its expiry before the sweeper',
      async (_name, notice) => {
        const qr = await create();
        clock.advance(TTL_MS + 100);
        await notice(qr);
        expect(await stateOf(qr)).toBe('expired');
        await sweeper.sweep();
        await settle();
        expect(audit.filter((e) => e.type === 'qr.expired' && e.detail?.qr === qr.id.slice(0, 8))).toHaveLength(1);
      },
    );

    it('never lets a failing audit write break the transition', async () => {
      const broken = build();
      await broken.hub.onModuleInit();
      try {
        (broken.service as unknown as { audit: { record(): Promise<void> } }).audit = {
          record: () => Promise.reject(new Error('database down')),
        };
        const qr = await broken.service.create(undefined, BROWSER);
        await broken.service.scan(A, qr.id, undefined, PHONE_CONTEXT);
        await broken.service.confirm(A, qr.id, qr.matchCode, undefined, PHONE_CONTEXT);
        expect((await broken.sessions.find(qr.id))!.status).toBe('confirmed');
      } finally {
        await broken.hub.onApplicationShutdown();
        broken.store.onApplicationShutdown();
      }
    });
  });

  describe('settings', () => {
    it('without number matching: no matchCode, no choices, and a confirm without a number works', async () => {
      const off = build({ numberMatching: false });
      await off.hub.onModuleInit();
      try {
        const qr = await off.service.create(undefined, BROWSER);
        expect(qr).not.toHaveProperty('matchCode');
        const scanned = await off.service.scan(A, qr.id, undefined, PHONE_CONTEXT);
        expect(scanned).not.toHaveProperty('matchCodeChoices');
        await off.service.confirm(A, qr.id, undefined, undefined, PHONE_CONTEXT);
        expect((await off.sessions.find(qr.id))!.status).toBe('confirmed');
      } finally {
        await off.hub.onApplicationShutdown();
        off.store.onApplicationShutdown();
      }
    });

    it('with a device key: a confirm needs a valid signature of scangate:confirm:<id>:<matchCode>', async () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const qr = await STATES.scanned!(); // (an unsigned scan, before the key is known)
      deviceKeys.set(A.sessionId, publicKey);
      const signature = (message: string) =>
        sign('sha256', Buffer.from(message), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
      for (const bad of [
        undefined,
        'A'.repeat(86),
        signature(`scangate:confirm:${qr.id}:${wrongCode(qr)}`),
        signature(`scangate:confirm:${qr.id}:`),
      ]) {
        expect(await codeOf(service.confirm(A, qr.id, qr.matchCode, bad, PHONE_CONTEXT))).toBe(
          'auth.device_signature_invalid',
        );
      }
      expect(await stateOf(qr)).toBe('scanned');
      await service.confirm(
        A,
        qr.id,
        qr.matchCode,
        signature(`scangate:confirm:${qr.id}:${qr.matchCode}`),
        PHONE_CONTEXT,
      );
      expect(await stateOf(qr)).toBe('confirmed');
    });

    it('with key-less devices refused: a phone without a key may not scan, one with a key may', async () => {
      const strict = build({ allowKeylessDevices: false });
      await strict.hub.onModuleInit();
      try {
        const qr = await strict.service.create(undefined, BROWSER);
        expect(await codeOf(strict.service.scan(A, qr.id, undefined, PHONE_CONTEXT))).toBe('auth.forbidden');
        expect((await strict.sessions.find(qr.id))!.status).toBe('pending');
        const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        strict.deviceKeys.set(STRANGER.sessionId, publicKey);
        const signed = sign('sha256', Buffer.from(`scangate:scan:${qr.id}`), {
          key: privateKey,
          dsaEncoding: 'ieee-p1363',
        }).toString('base64url');
        expect(await codeOf(strict.service.scan(STRANGER, qr.id, signed, PHONE_CONTEXT))).toBe('ok');
      } finally {
        await strict.hub.onApplicationShutdown();
        strict.store.onApplicationShutdown();
      }
    });

    it('refuses a returnTo on another origin or protocol-relative, keeps a path', async () => {
      for (const returnTo of [
        'https://evil.example.com/x',
        '//evil.example.com',
        '/\\evil.example.com',
        'javascript:alert(1)',
      ]) {
        expect(await codeOf(service.create(returnTo, BROWSER))).toBe('validation.failed');
      }
      const qr = await service.create('/after?x=1', BROWSER);
      expect((await sessions.find(qr.id))!.returnTo).toBe('/after?x=1');
    });
  });

  describe('security review', () => {
    const signer = () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      return {
        publicKey,
        sign: (message: string) =>
          sign('sha256', Buffer.from(message), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url'),
      };
    };

    it('a phone with a device key must sign its scan (scangate:scan:<id>): a stolen access token alone claims nothing', async () => {
      const key = signer();
      deviceKeys.set(A.sessionId, key.publicKey);
      const qr = await create();
      for (const bad of [
        undefined,
        'A'.repeat(86),
        key.sign(`scangate:scan:${'B'.repeat(43)}`),
        key.sign(`scangate:confirm:${qr.id}:`),
      ]) {
        expect(await codeOf(service.scan(A, qr.id, bad, PHONE_CONTEXT))).toBe('auth.device_signature_invalid');
      }
      expect(await stateOf(qr)).toBe('pending');
      expect(await codeOf(service.scan(A, qr.id, key.sign(`scangate:scan:${qr.id}`), PHONE_CONTEXT))).toBe('ok');
      expect(await stateOf(qr)).toBe('scanned');
    });

    it('an exchange after the approving phone session was revoked cancels the login and signs nobody in', async () => {
      const built = build();
      await built.hub.onModuleInit();
      try {
        const qr = await confirmedBy(built.service, A);
        built.revoked.add(A.sessionId);
        expect(await codeOf(built.exchanges.exchange(qr.id, qr.pollToken, BROWSER))).toBe('qr.wrong_state');
        expect(await built.sessions.find(qr.id)).toMatchObject({
          status: 'cancelled',
          cancelReason: 'approver_revoked',
        });
        expect(built.signedIn).toEqual([]);
        expect(built.audit.filter((e) => e.type === 'qr.cancelled').map((e) => e.detail)).toEqual([
          { qr: qr.id.slice(0, 8), reason: 'approver_revoked' },
        ]);
      } finally {
        await built.hub.onApplicationShutdown();
        built.store.onApplicationShutdown();
      }
    });

    it("a revoked phone session's scanned and confirmed logins are cancelled, once, and nobody else's", async () => {
      const scanned = await STATES.scanned!();
      const confirmed = await STATES.confirmed!();
      const consumed = await STATES.consumed!();
      const others = await create();
      await scan(others, STRANGER);
      expect(await revocation.cancelApprovedBy(A.sessionId)).toBe(2);
      expect(await stateOf(scanned)).toBe('cancelled');
      expect(await stateOf(confirmed)).toBe('cancelled');
      expect(await stateOf(consumed)).toBe('consumed');
      expect(await stateOf(others)).toBe('scanned');
      expect(await revocation.cancelApprovedBy(A.sessionId)).toBe(0);
    });

    it('consumed only once a web session exists: a sign-in that fails (database down) leaves it confirmed, unannounced, and the retry signs in once', async () => {
      const built = build();
      await built.hub.onModuleInit();
      const published: string[] = [];
      await built.store.subscribe(QR_EVENTS_CHANNEL, (m) => published.push((JSON.parse(m) as QrStatusView).status));
      try {
        const qr = await confirmedBy(built.service, A);
        built.database.down = true;
        await expect(built.exchanges.exchange(qr.id, qr.pollToken, BROWSER)).rejects.toThrow(/Connection terminated/);
        const after = await built.sessions.find(qr.id);
        expect(after).toMatchObject({ status: 'confirmed', version: 3 });
        expect(after).not.toHaveProperty('exchange');
        built.database.down = false;
        const signedIn = await built.exchanges.exchange(qr.id, qr.pollToken, BROWSER);
        expect(await built.sessions.find(qr.id)).toMatchObject({
          status: 'consumed',
          version: 4,
          webSessionId: signedIn.session.id,
        });
        expect(built.signedIn).toHaveLength(1);
        expect(await codeOf(built.exchanges.exchange(qr.id, qr.pollToken, BROWSER))).toBe('qr.consumed');
        await settle();
        expect(published).toEqual(['pending', 'scanned', 'confirmed', 'consumed']);
      } finally {
        await built.hub.onApplicationShutdown();
        built.store.onApplicationShutdown();
      }
    });

    it('a scan whose scanner index fails (store down) is still audited once, and the phone’s retry indexes it without a second row', async () => {
      const qr = await create();
      const indexScanner = sessions.indexScanner.bind(sessions);
      let failNext = true;
      sessions.indexScanner = async (record) => {
        if (failNext) {
          failNext = false;
          throw new Error('store unavailable');
        }
        return indexScanner(record);
      };
      await expect(scan(qr)).rejects.toThrow(/store unavailable/);
      await settle();
      expect(audit.filter((a) => a.type === 'qr.scanned')).toHaveLength(1);
      expect(await scan(qr)).toMatchObject({ id: qr.id, status: 'scanned' });
      await settle();
      expect(audit.filter((a) => a.type === 'qr.scanned')).toHaveLength(1);
      // Indexed by the retry: signing the phone out cancels the login.
      expect(await revocation.cancelApprovedBy(A.sessionId)).toBe(1);
      expect(await stateOf(qr)).toBe('cancelled');
    });

    it('a consume the store fails after the web session exists discards that session; once the hold runs out the retry signs in: one live session', async () => {
      const built = build();
      await built.hub.onModuleInit();
      try {
        const qr = await confirmedBy(built.service, A);
        const transition = built.sessions.transition.bind(built.sessions);
        let failConsume = true;
        built.sessions.transition = (async (...args: Parameters<typeof transition>) => {
          if (args[2] === 'consumed' && failConsume) {
            failConsume = false;
            throw new StoreUnavailableError();
          }
          return transition(...args);
        }) as typeof transition;
        await expect(built.exchanges.exchange(qr.id, qr.pollToken, BROWSER)).rejects.toThrow(StoreUnavailableError);
        expect(built.discarded).toEqual(['web-session-1']);
        expect(await codeOf(built.exchanges.exchange(qr.id, qr.pollToken, BROWSER))).toBe('qr.consumed'); // still held
        built.clock.advance(QR_EXCHANGE_LEASE_MS + 1);
        const signedIn = await built.exchanges.exchange(qr.id, qr.pollToken, BROWSER);
        expect(signedIn.session.id).toBe('web-session-2');
        expect(built.signedIn).toHaveLength(2);
        expect(built.discarded).toEqual(['web-session-1']);
      } finally {
        await built.hub.onApplicationShutdown();
        built.store.onApplicationShutdown();
      }
    });

    it('while an exchange holds a session, another gets qr.consumed and the sweeper leaves it; a hold left by a dead process runs out', async () => {
      const qr = await STATES.confirmed!();
      clock.advance(TTL_MS - 1_000);
      const { record: held } = await sessions.claimExchange(qr.id, () => new QrLoginError('qr.wrong_state'));
      expect(held.version).toBe(3);
      expect(await codeOf(exchange(qr))).toBe('qr.consumed');
      expect((await browsers.status(qr.id, qr.pollToken)).status).toBe('confirmed');
      clock.advance(2_000); // past its expiry, but held
      expect(await sessions.sweepOne(qr.id)).toBeNull();
      expect((await sessions.find(qr.id))!.status).toBe('confirmed');
      clock.advance(QR_EXCHANGE_LEASE_MS); // the holder never came back
      expect(await sessions.sweepOne(qr.id)).toMatchObject({ status: 'expired' });
    });

    it('a hold that ran out before the live login expired lets the browser exchange it', async () => {
      const qr = await STATES.confirmed!();
      await sessions.claimExchange(qr.id, () => new QrLoginError('qr.wrong_state'));
      clock.advance(QR_EXCHANGE_LEASE_MS + 1);
      await exchange(qr);
      expect((await sessions.find(qr.id))!.status).toBe('consumed');
    });

    it('status polls with a wrong token count against the caller IP, never against the session', async () => {
      const limited = build({ statusLimitPerSessionPerMinute: 3, statusMissLimitPerIpPerMinute: 2 });
      await limited.hub.onModuleInit();
      try {
        const qr = await limited.service.create(undefined, BROWSER);
        const poll = (token: string, ip: string) => codeOf(limited.browsers.status(qr.id, token, { ip }));
        const attacker = '203.0.113.66';
        expect([
          await poll('x'.repeat(43), attacker),
          await poll('x'.repeat(43), attacker),
          await poll('x'.repeat(43), attacker),
        ]).toEqual(['qr.not_found', 'qr.not_found', 'rate_limited']);
        // The browser's own budget is untouched: three polls pass, the fourth is over it.
        expect([
          await poll(qr.pollToken, BROWSER.ip),
          await poll(qr.pollToken, BROWSER.ip),
          await poll(qr.pollToken, BROWSER.ip),
        ]).toEqual(['ok', 'ok', 'ok']);
        expect(await poll(qr.pollToken, BROWSER.ip)).toBe('rate_limited');
      } finally {
        await limited.hub.onApplicationShutdown();
        limited.store.onApplicationShutdown();
      }
    });
  });

  it('publishes every change of a flow on the events channel, one per version', async () => {
    const seen: QrStatusView[] = [];
    await store.subscribe(QR_EVENTS_CHANNEL, (m) => seen.push(JSON.parse(m) as QrStatusView));
    const qr = await STATES.consumed!();
    await settle();
    expect(seen.filter((e) => e.id === qr.id).map((e) => `${e.version}:${e.status}`)).toEqual([
      '1:pending',
      '2:scanned',
      '3:confirmed',
      '4:consumed',
    ]);
  });
});
