import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import request from 'supertest';
import type { TestApp } from './create-test-app.js';
import { bearer, loginMobile, type MobileLogin } from './accounts.js';

/** A phone with a device key (P-256), signed in as a mobile device session. */
export interface Phone extends MobileLogin {
  privateKey: KeyObject;
}

export async function signInPhone(t: TestApp, login: string, deviceId?: string): Promise<Phone> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const session = await loginMobile(t, login, undefined, { ...(deviceId ? { id: deviceId } : {}), publicKey: jwk });
  return { ...session, privateKey };
}

/** `X-Device-Signature` for a confirm: ES256 (P1363) of `scangate:confirm:<id>:<matchCode>`. */
export function confirmSignature(phone: Pick<Phone, 'privateKey'>, id: string, matchCode: string | undefined): string {
  return sign('sha256', Buffer.from(`scangate:confirm:${id}:${matchCode ?? ''}`), {
    key: phone.privateKey,
    dsaEncoding: 'ieee-p1363',
  }).toString('base64url');
}

export async function createQr(
  t: TestApp,
  body: object = {},
  userAgent = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36',
) {
  const res = await request(t.url).post('/api/v1/qr-sessions').set('User-Agent', userAgent).send(body).expect(201);
  return res.body as { id: string; pollToken: string; matchCode?: string; version: number; expiresAt: string };
}

/** `X-Device-Signature` for a scan: ES256 (P1363) of `scangate:scan:<id>`. */
export function scanSignature(phone: Pick<Phone, 'privateKey'>, id: string): string {
  return sign('sha256', Buffer.from(`scangate:scan:${id}`), {
    key: phone.privateKey,
    dsaEncoding: 'ieee-p1363',
  }).toString('base64url');
}

/** The phone scans; one with a device key signs the scan, as the protocol asks. */
export const scan = (t: TestApp, phone: Pick<Phone, 'accessToken'> & { privateKey?: KeyObject }, id: string) => {
  const req = request(t.url).post(`/api/v1/qr-sessions/${id}/scan`).set(bearer(phone.accessToken));
  return (
    phone.privateKey ? req.set('X-Device-Signature', scanSignature({ privateKey: phone.privateKey }, id)) : req
  ).send({});
};

export const confirm = (t: TestApp, phone: Phone, id: string, matchCode: string | undefined) =>
  request(t.url)
    .post(`/api/v1/qr-sessions/${id}/confirm`)
    .set(bearer(phone.accessToken))
    .set('X-Device-Signature', confirmSignature(phone, id, matchCode))
    .send(matchCode === undefined ? {} : { matchCode });

export const status = (t: TestApp, id: string, pollToken?: string) => {
  const req = request(t.url).get(`/api/v1/qr-sessions/${id}`);
  return pollToken === undefined ? req : req.set('X-Poll-Token', pollToken);
};

export const exchange = (t: TestApp, id: string, pollToken?: string) => {
  const req = request(t.url).post(`/api/v1/qr-sessions/${id}/exchange`);
  return (pollToken === undefined ? req : req.set('X-Poll-Token', pollToken)).send({});
};

/** create → scan → confirm by `phone`; returns the browser's secrets. */
export async function confirmedQr(t: TestApp, phone: Phone) {
  const qr = await createQr(t);
  await scan(t, phone, qr.id).expect(200);
  await confirm(t, phone, qr.id, qr.matchCode).expect(200);
  return qr;
}
