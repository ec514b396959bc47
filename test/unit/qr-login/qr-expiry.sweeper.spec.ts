import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { FakeClock } from '../../support/fake-clock.js';
import { testConfig } from '../../support/test-config.js';
import type { AuditInput, AuditService } from '../../../src/audit/audit.service.js';
import type { Principal } from '../../../src/auth/auth.principal.js';
import type { SessionsService } from '../../../src/auth/sessions/sessions.service.js';
import { CryptoService } from '../../../src/common/crypto/crypto.service.js';
import { MemoryStore } from '../../../src/store/memory.store.js';
import { StoreUnavailableError } from '../../../src/store/store.errors.js';
import { QrEventsHub } from '../../../src/qr-login/qr-events.hub.js';
import { QrExpirySweeper } from '../../../src/qr-login/qr-expiry.sweeper.js';
import type { QrPollLimits } from '../../../src/qr-login/qr-rate-limits.js';
import { QrStatusService } from '../../../src/qr-login/qr-status.service.js';
import { QrApprovingDevice } from '../../../src/qr-login/qr-approving-device.js';
import { QrAuditTrail } from '../../../src/qr-login/qr-audit-trail.js';
import { QrLoginService, type CreatedQrSession } from '../../../src/qr-login/qr-login.service.js';
import { QrRequesterService } from '../../../src/qr-login/qr-requester.service.js';
import type { QrStatusView } from '../../../src/qr-login/qr-session.js';
import { QR_DUE_SET, QR_EVENTS_CHANNEL, QrSessionStore } from '../../../src/qr-login/qr-sessions.store.js';
import { GeoIpReader } from '../../../src/requester/geoip.reader.js';
import { RequesterContextBuilder } from '../../../src/requester/requester-context.builder.js';

const CONFIG = testConfig();
const TTL_MS = CONFIG.qr.ttlSeconds * 1000;
const BROWSER = { ip: '198.51.100.7', userAgent: null };
const PHONE: Principal = {
  userId: 'user-a',
  sessionId: 'phone-a',
  kind: 'mobile',
  deviceId: 'device-a',
  roles: ['user'],
  amr: ['pwd', 'mob'],
};

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Fails the test if the account side is touched: sweeping never signs anyone in. */
function strict<T>(name: string): T {
  return new Proxy(
    {},
    {
      get: (_target, property) => {
        if (property === 'then') return undefined;
        throw new Error(`${name}.${String(property)} must not be used by the sweeper`);
      },
    },
  ) as T;
}

/** One instance: its own QrLoginService and sweeper over the shared store and clock. */
function instance(store: MemoryStore, clock: FakeClock, audit: AuditInput[]) {
  const sessions = new QrSessionStore(store, clock);
  const browsers = new QrStatusService(
    sessions,
    new QrEventsHub(store),
    new CryptoService(),
    clock,
    strict<QrPollLimits>('QrPollLimits'),
  );
  // The set-up scans and confirms from phones without a device key (CONFIG allows it).
  const keyless = { devicePublicKey: async () => null } as unknown as SessionsService;
  const service = new QrLoginService(
    sessions,
    browsers,
    new QrRequesterService(new RequesterContextBuilder(GeoIpReader.none())),
    new CryptoService(),
    clock,
    new QrApprovingDevice(keyless, CONFIG.qr),
    new QrAuditTrail({ record: async (input: AuditInput) => void audit.push(input) } as unknown as AuditService),
    CONFIG.qr,
    CONFIG.app,
  );
  return { sessions, service, browsers, sweeper: new QrExpirySweeper(sessions, clock) };
}

describe('QrExpirySweeper (real service and store, fake clock)', () => {
  let clock: FakeClock;
  let store: MemoryStore;
  let audit: AuditInput[];
  let events: QrStatusView[];
  let one: ReturnType<typeof instance>;

  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['error', 'warn', 'log']));

  beforeEach(async () => {
    clock = new FakeClock();
    store = new MemoryStore(clock);
    audit = [];
    events = [];
    await store.subscribe(QR_EVENTS_CHANNEL, (m) => events.push(JSON.parse(m) as QrStatusView));
    one = instance(store, clock, audit);
  });

  afterEach(() => store.onApplicationShutdown());

  async function createMany(n: number, service = one.service): Promise<CreatedQrSession[]> {
    const created = [];
    for (let i = 0; i < n; i++) created.push(await service.create(undefined, BROWSER));
    await settle();
    events.length = 0;
    return created;
  }

  const expiredEvents = () => events.filter((e) => e.status === 'expired');

  it('moves every due session to expired, over more than two batches of 100, one event and one audit each', async () => {
    const due = await createMany(250);
    clock.advance(TTL_MS);
    expect(await one.sweeper.sweep()).toBe(250);
    for (const qr of due) expect(await one.sessions.find(qr.id)).toMatchObject({ status: 'expired', version: 2 });
    await settle();
    expect(expiredEvents()).toHaveLength(250);
    expect(new Set(expiredEvents().map((e) => e.id))).toEqual(new Set(due.map((q) => q.id)));
    expect(audit.filter((e) => e.type === 'qr.expired')).toHaveLength(250);
    expect(await one.sweeper.sweep()).toBe(0);
  });

  it('handles exactly two full batches (the loop ends on an empty third)', async () => {
    await createMany(200);
    clock.advance(TTL_MS);
    expect(await one.sweeper.sweep()).toBe(200);
    await settle();
    expect(expiredEvents()).toHaveLength(200);
  });

  it('leaves sessions that are not due yet, and takes them on a later pass', async () => {
    const early = await createMany(3);
    clock.advance(60_000);
    const late = await createMany(2);
    clock.advance(TTL_MS - 60_000);
    expect(await one.sweeper.sweep()).toBe(3);
    for (const qr of early) expect((await one.sessions.find(qr.id))!.status).toBe('expired');
    for (const qr of late) expect((await one.sessions.find(qr.id))!.status).toBe('pending');
    clock.advance(59_999);
    expect(await one.sweeper.sweep()).toBe(0);
    clock.advance(1);
    expect(await one.sweeper.sweep()).toBe(2);
    for (const qr of late) expect((await one.sessions.find(qr.id))!.status).toBe('expired');
  });

  it('expires scanned and confirmed sessions too, and skips finished ones', async () => {
    const [pending, scanned, confirmed, cancelled] = await createMany(4);
    for (const qr of [scanned!, confirmed!, cancelled!]) await one.service.scan(PHONE, qr.id, undefined, BROWSER);
    await one.service.confirm(PHONE, confirmed!.id, confirmed!.matchCode, undefined, BROWSER);
    await one.service.cancel(PHONE, cancelled!.id, BROWSER);
    await settle();
    events.length = 0;
    audit.length = 0;
    clock.advance(TTL_MS);
    expect(await one.sweeper.sweep()).toBe(3); // the cancelled one left the due set when it finished
    for (const qr of [pending!, scanned!, confirmed!]) expect((await one.sessions.find(qr.id))!.status).toBe('expired');
    expect((await one.sessions.find(cancelled!.id))!.status).toBe('cancelled');
    await settle();
    expect(
      expiredEvents()
        .map((e) => e.id)
        .sort(),
    ).toEqual([pending!.id, scanned!.id, confirmed!.id].sort());
    expect(audit.map((e) => e.type)).toEqual(['qr.expired', 'qr.expired', 'qr.expired']);
  });

  it('does not expire again what a status read already expired (one event, one audit)', async () => {
    const [qr] = await createMany(1);
    clock.advance(TTL_MS);
    expect(await one.browsers.status(qr!.id, qr!.pollToken)).toMatchObject({ status: 'expired', version: 2 });
    await one.sweeper.sweep();
    await settle();
    expect(expiredEvents()).toHaveLength(1);
    expect(audit.filter((e) => e.type === 'qr.expired')).toHaveLength(1);
  });

  it('with two instances sweeping at once, expires each due session exactly once', async () => {
    const two = instance(store, clock, audit);
    const due = [...(await createMany(180, one.service)), ...(await createMany(170, two.service))];
    clock.advance(TTL_MS);
    const [a, b] = await Promise.all([one.sweeper.sweep(), two.sweeper.sweep()]);
    expect(a + b).toBe(350);
    for (const qr of due) expect((await one.sessions.find(qr.id))!.status).toBe('expired');
    await settle();
    expect(expiredEvents()).toHaveLength(350);
    expect(new Set(expiredEvents().map((e) => e.id)).size).toBe(350);
    const audited = audit.filter((e) => e.type === 'qr.expired').map((e) => e.detail?.qr);
    expect(audited).toHaveLength(350);
    expect(new Set(audited).size).toBe(350);
  });

  it('never overlaps itself: a pass started while one runs does nothing', async () => {
    await createMany(150);
    clock.advance(TTL_MS);
    const [first, second] = await Promise.all([one.sweeper.sweep(), one.sweeper.sweep()]);
    expect([first, second]).toEqual([150, 0]);
  });

  it('survives a store outage (returns 0, never throws) while other instances go on', async () => {
    const [qr] = await createMany(1);
    clock.advance(TTL_MS);
    const down = new MemoryStore(clock);
    const cut = instance(down, clock, audit);
    down.onApplicationShutdown(); // every call now fails with store.unavailable
    await expect(cut.sweeper.sweep()).resolves.toBe(0);
    await expect(cut.sweeper.sweep()).resolves.toBe(0);
    expect(await one.sweeper.sweep()).toBe(1);
    expect((await one.sessions.find(qr!.id))!.status).toBe('expired');
  });

  // `takeDue` removes the ids from the due set before `expire` writes anything: when
  // the store fails in between (a Redis timeout), those ids are gone for good and no
  // sweeper ever announces their expiry (sockets are never told; only a later read
  // would notice).
  it('still expires a session whose expiry failed on a store hiccup, on the next pass', async () => {
    const [qr] = await createMany(1);
    clock.advance(TTL_MS);
    let failNext = true;
    const flaky = new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property === 'compareAndSet') {
          return (...args: Parameters<MemoryStore['compareAndSet']>) => {
            if (failNext) {
              failNext = false;
              return Promise.reject(new StoreUnavailableError());
            }
            return target.compareAndSet(...args);
          };
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const hiccup = instance(flaky, clock, audit);
    expect(await hiccup.sweeper.sweep()).toBe(0); // the pass failed
    await hiccup.sweeper.sweep();
    expect((await one.sessions.find(qr!.id))!.status).toBe('expired');
    await settle();
    expect(expiredEvents()).toHaveLength(1);
  });

  it('runs on its own every half second once the application has started, and stops at shutdown', async () => {
    const [qr] = await createMany(1);
    clock.advance(TTL_MS);
    one.sweeper.onApplicationBootstrap();
    try {
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect((await one.sessions.find(qr!.id))!.status).toBe('expired');
    } finally {
      one.sweeper.onApplicationShutdown();
    }
    const [later] = await createMany(1);
    clock.advance(TTL_MS);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await one.sessions.find(later!.id))!.status).toBe('pending');
    expect(await store.takeDue(QR_DUE_SET, clock.now(), 10)).toEqual([later!.id]);
  });
});
