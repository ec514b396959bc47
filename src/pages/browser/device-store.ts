// The phone page's memory, in IndexedDB (never localStorage): this device's id,
// its signing key (WebCrypto P-256, non-extractable: the private key cannot be
// read back out, only used), and the mobile session's refresh token.

export interface DeviceRecord {
  deviceId: string;
  privateKey: CryptoKey | null;
  publicJwk: { kty: string; crv: string; x: string; y: string } | null;
  refreshToken: string | null;
  displayName: string | null;
}

const DB = 'scangate';
const STORE = 'device';
const KEY = 'this-device';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function open(): Promise<IDBDatabase> {
  const req = indexedDB.open(DB, 1);
  req.onupgradeneeded = () => req.result.createObjectStore(STORE);
  return request(req);
}

async function withStore<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await request(work(db.transaction(STORE, mode).objectStore(STORE)));
  } finally {
    db.close();
  }
}

/** WebCrypto exists only on secure origins (https, localhost): elsewhere no device key. */
export function canHoldDeviceKey(): boolean {
  return window.isSecureContext && typeof crypto?.subtle?.generateKey === 'function';
}

export async function loadDevice(): Promise<DeviceRecord> {
  const stored = await withStore<DeviceRecord | undefined>('readonly', (s) => s.get(KEY)).catch(() => undefined);
  // (crypto.randomUUID exists only on secure origins; getRandomValues everywhere.)
  const id = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
  return stored ?? { deviceId: `web-${id}`, privateKey: null, publicJwk: null, refreshToken: null, displayName: null };
}

export async function saveDevice(record: DeviceRecord): Promise<void> {
  await withStore('readwrite', (s) => s.put(record, KEY));
}

/** A fresh key pair for a new sign-in: the private half can sign but never be exported. */
export async function newDeviceKey(): Promise<Pick<DeviceRecord, 'privateKey' | 'publicJwk'>> {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
  return { privateKey: pair.privateKey, publicJwk: { kty: kty!, crv: crv!, x: x!, y: y! } };
}

/** `X-Device-Signature` of a confirm: over `scangate:confirm:<id>:<matchCode>`. */
export function signConfirm(key: CryptoKey, qrId: string, matchCode: string): Promise<string> {
  return signDeviceMessage(key, `scangate:confirm:${qrId}:${matchCode}`);
}

/** `X-Device-Signature` of a scan: over `scangate:scan:<id>`. */
export function signScan(key: CryptoKey, qrId: string): Promise<string> {
  return signDeviceMessage(key, `scangate:scan:${qrId}`);
}

/** `X-Device-Signature` of a known device's sign-in: over `scangate:login:<device id>:<login>` (login normalised as the server does). */
export function signLogin(key: CryptoKey, deviceId: string, login: string): Promise<string> {
  return signDeviceMessage(key, `scangate:login:${deviceId}:${login.normalize('NFKC').trim().toLowerCase()}`);
}

/** ES256 (P1363, as WebCrypto gives it) over the UTF-8 message, base64url. */
async function signDeviceMessage(key: CryptoKey, message: string): Promise<string> {
  const data = new TextEncoder().encode(message);
  const signature = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, data));
  return btoa(String.fromCharCode(...signature))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** A readable device name for the session list ("Chrome on Android"). */
export function deviceName(): string {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : 'Browser';
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad/.test(ua)
      ? 'iOS'
      : /Windows/.test(ua)
        ? 'Windows'
        : /Mac OS X/.test(ua)
          ? 'macOS'
          : /Linux/.test(ua)
            ? 'Linux'
            : 'a phone';
  return `${browser} on ${os}`;
}
