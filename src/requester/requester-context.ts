import UAParser from 'ua-parser-js';
import { normalizeIp } from './ip-address.js';

/**
 * Who asked for a QR login, as shown to the phone that scans it
 * (PROTOCOL.md, `POST /qr-sessions/{id}/scan` → `requester`).
 */
export interface RequesterContext {
  /** The browser's IP; IPv4-mapped IPv6 is shown as IPv4. `null` if unknown. */
  ip: string | null;
  /** "Chrome 142", "Mobile Safari 17", "WeChat 8"; `null` when not recognised. */
  browser: string | null;
  /** "Windows 10", "iOS 17.4", "Linux"; `null` when not recognised. See `describeOs`. */
  os: string | null;
  deviceType: DeviceType;
  /** When the QR session was created (ISO 8601, UTC). */
  createdAt: string;
  /** "Shanghai, CN", "CN" or `null` (no GeoIP database, private or unknown IP). */
  location: string | null;
}

/**
 * ua-parser-js 1.x device types, plus `desktop` (it reports no type for
 * desktop browsers) and `unknown` (nothing recognisable in the user agent).
 */
type DeviceType = 'desktop' | 'mobile' | 'tablet' | 'console' | 'smarttv' | 'wearable' | 'embedded' | 'unknown';
const PARSER_DEVICE_TYPES: ReadonlySet<string> = new Set([
  'mobile',
  'tablet',
  'console',
  'smarttv',
  'wearable',
  'embedded',
]);

/**
 * Raw values of the User-Agent Client Hints headers, when the browser sent them
 * (`Sec-CH-UA-Platform`, `Sec-CH-UA-Platform-Version`; the second is sent only
 * after the server asked for it with `Accept-CH`). Quotes are allowed.
 */
export interface ClientHints {
  platform?: string | null;
  platformVersion?: string | null;
}

export interface RequesterInput {
  ip: string | null | undefined;
  userAgent: string | null | undefined;
  createdAt: Date;
  /** From GeoIpReader.location(ip); `null`/absent when unknown. */
  location?: string | null;
  clientHints?: ClientHints;
}

export interface ParsedUserAgent {
  browser: string | null;
  os: string | null;
  deviceType: DeviceType;
}

/** Longest text taken from a user agent into the context (they are attacker-controlled). */
const MAX_FIELD_LENGTH = 64;

/** Builds the requester context. Pure: no I/O, no clock. */
export function buildRequesterContext(input: RequesterInput): RequesterContext {
  return {
    ip: normalizeIp(input.ip),
    ...parseUserAgent(input.userAgent, input.clientHints),
    createdAt: input.createdAt.toISOString(),
    location: input.location ?? null,
  };
}

/**
 * Browser, OS and device type of a user agent, with ua-parser-js 1.x (MIT; 2.x
 * is AGPL and must not be used here).
 *
 * - browser: "<name> <major version>", or the name alone when there is no version.
 * - os: "<name> <version>" as ua-parser-js 1.x reports it. User agents froze
 *   their OS versions: **Windows 11 sends "Windows NT 10.0" and is reported as
 *   "Windows 10"**, and Safari/Chrome on any recent macOS send "10_15_7". We keep
 *   what the user agent says rather than guess; when the browser sent the
 *   `Sec-CH-UA-Platform-Version` client hint, it decides instead
 *   (Windows: major ≥ 13 → "Windows 11", 1–10 → "Windows 10"; macOS: the real
 *   version).
 * - deviceType: ua-parser's type; no type but a recognised browser or OS →
 *   "desktop"; nothing recognised (empty UA, curl, bots) → "unknown".
 */
export function parseUserAgent(userAgent: string | null | undefined, hints?: ClientHints): ParsedUserAgent {
  const ua = typeof userAgent === 'string' ? userAgent : '';
  // ua-parser-js 1.x cuts the user agent to 500 characters itself (no ReDoS on long input).
  const result = new UAParser(ua).getResult();

  const browserName = clean(result.browser.name);
  const browserMajor = clean(result.browser.major);
  const browser = browserName ? join(browserName, browserMajor) : null;

  const os = describeOs(clean(result.os.name), clean(result.os.version), hints);

  const type = result.device.type;
  let deviceType: DeviceType;
  if (type && PARSER_DEVICE_TYPES.has(type)) deviceType = type as DeviceType;
  else if (!type && (browser || os)) deviceType = 'desktop';
  else deviceType = 'unknown';

  return { browser, os, deviceType };
}

/** "Windows 10", "iOS 17.4", "Linux"; client hints correct frozen versions. */
function describeOs(name: string | null, version: string | null, hints?: ClientHints): string | null {
  if (!name) return null;
  const hinted = unquote(hints?.platformVersion);
  const platform = unquote(hints?.platform)?.toLowerCase() ?? null;
  if (hinted && /^\d+(\.\d+){0,3}$/.test(hinted)) {
    const major = Number(hinted.split('.')[0]);
    if (name === 'Windows' && (platform === null || platform === 'windows')) {
      if (major >= 13) return 'Windows 11';
      if (major >= 1) return 'Windows 10';
    }
    if (name === 'Mac OS' && (platform === null || platform === 'macos')) {
      return `Mac OS ${hinted.replace(/(\.0)+$/, '')}`;
    }
  }
  return join(name, version);
}

function join(name: string, version: string | null): string {
  return (version ? `${name} ${version}` : name).slice(0, MAX_FIELD_LENGTH);
}

/** Printable text only, trimmed and bounded; `null` when nothing is left. */
function clean(value: string | undefined): string | null {
  if (typeof value !== 'string') return null;
  const text = value
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .trim()
    .slice(0, MAX_FIELD_LENGTH);
  return text === '' ? null : text;
}

function unquote(value: string | null | undefined): string | null {
  if (typeof value !== 'string') return null;
  const text = value
    .trim()
    .replace(/^"(.*)"$/, '$1')
    .trim();
  return text === '' ? null : text;
}
