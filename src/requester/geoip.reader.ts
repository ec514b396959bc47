import { readFile } from 'node:fs/promises';
import { Reader, type AsnResponse, type CityResponse } from 'maxmind';
import { isNonPublicIp, parseIp } from './ip-address.js';

/** Paths of offline MaxMind DB (mmdb) files; each is optional. */
export interface GeoIpPaths {
  /** GeoLite2-City / GeoIP2-City, or a Country database (then locations are "CC" only). */
  city?: string | null;
  /** GeoLite2-ASN / GeoIP2-ISP. */
  asn?: string | null;
}

export interface GeoIpLookup {
  /** "Shanghai, CN", "CN" when the database has no city, or `null`. */
  location: string | null;
  /** ISO 3166-1 alpha-2 country code, or `null`. */
  country: string | null;
  /** Autonomous system number, or `null`. */
  asn: number | null;
}

const NOTHING: GeoIpLookup = Object.freeze({ location: null, country: null, asn: null });

/**
 * Offline IP → location/ASN lookups from MaxMind DB files (GeoLite2 or
 * compatible, e.g. DB-IP lite), read whole into memory once at start.
 *
 * Private, loopback, link-local, CGNAT and multicast addresses, and anything that
 * is not an IP, answer `null` without a lookup. A missing, unreadable or
 * corrupt file, or one of the wrong kind, fails `open()` with an error naming the
 * file, so a misconfigured server refuses to start rather than silently showing
 * no locations.
 *
 * Provide it with a factory (the class is the injection token), e.g.
 * ```ts
 * { provide: GeoIpReader, inject: [QR_CONFIG],
 *   useFactory: (qr: QrConfig) => GeoIpReader.open({ city: qr.geoip.cityDb, asn: qr.geoip.asnDb }) }
 * ```
 */
export class GeoIpReader {
  private constructor(
    private readonly cityDb: Reader<CityResponse> | null,
    private readonly asnDb: Reader<AsnResponse> | null,
  ) {}

  /** Opens the given databases; absent paths are simply not used. */
  static async open(paths: GeoIpPaths): Promise<GeoIpReader> {
    const city = paths.city ? await openDb<CityResponse>(paths.city, 'city', /city|country/i) : null;
    const asn = paths.asn ? await openDb<AsnResponse>(paths.asn, 'ASN', /asn|isp/i) : null;
    return new GeoIpReader(city, asn);
  }

  /** A reader without databases: every lookup answers `null`. */
  static none(): GeoIpReader {
    return new GeoIpReader(null, null);
  }

  /** Which databases are loaded (for health/diagnostics). */
  get databases(): { city: string | null; asn: string | null } {
    return {
      city: this.cityDb?.metadata.databaseType ?? null,
      asn: this.asnDb?.metadata.databaseType ?? null,
    };
  }

  /** Location, country and ASN of `ip`; all `null` when unknown. Never throws. */
  lookup(ip: string | null | undefined): GeoIpLookup {
    if (!this.cityDb && !this.asnDb) return NOTHING;
    const parsed = parseIp(ip);
    if (!parsed || isNonPublicIp(parsed)) return NOTHING;
    const city = safeGet(this.cityDb, parsed.text);
    const asnRecord = safeGet(this.asnDb, parsed.text);

    const country = isoCode(city?.country?.iso_code) ?? isoCode(city?.registered_country?.iso_code);
    const cityName = nonEmpty(city?.city?.names?.en);
    const location = country ? (cityName ? `${cityName}, ${country}` : country) : null;
    const asnValue = asnRecord?.autonomous_system_number;
    const asn = typeof asnValue === 'number' && Number.isInteger(asnValue) && asnValue > 0 ? asnValue : null;
    return { location, country, asn };
  }

  /** "Shanghai, CN", "CN" or `null`. */
  location(ip: string | null | undefined): string | null {
    return this.lookup(ip).location;
  }

  asn(ip: string | null | undefined): number | null {
    return this.lookup(ip).asn;
  }
}

async function openDb<T extends CityResponse | AsnResponse>(
  path: string,
  kind: string,
  expectedType: RegExp,
): Promise<Reader<T>> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new Error(`GeoIP ${kind} database "${path}" cannot be read: ${describe(err)}`, { cause: err });
  }
  let reader: Reader<T>;
  try {
    reader = new Reader<T>(bytes);
  } catch (err) {
    throw new Error(`GeoIP ${kind} database "${path}" is not a valid MaxMind DB (mmdb) file: ${describe(err)}`, {
      cause: err,
    });
  }
  const type = String(reader.metadata.databaseType ?? '');
  if (!expectedType.test(type)) {
    throw new Error(`GeoIP ${kind} database "${path}" is of type "${type}", not a ${kind} database`);
  }
  // A truncated file can keep its metadata yet have a broken tree: probe once now.
  try {
    reader.get('8.8.8.8');
    reader.get('2001:4860::8888');
  } catch (err) {
    throw new Error(`GeoIP ${kind} database "${path}" is corrupt: ${describe(err)}`, { cause: err });
  }
  return reader;
}

function safeGet<T extends CityResponse | AsnResponse>(db: Reader<T> | null, ip: string): T | null {
  if (!db) return null;
  try {
    return db.get(ip);
  } catch {
    // An IPv6 address against an IPv4-only database, or a damaged record.
    return null;
  }
}

function isoCode(value: unknown): string | null {
  return typeof value === 'string' && /^[A-Za-z]{2}$/.test(value) ? value.toUpperCase() : null;
}

function nonEmpty(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

function describe(err: unknown): string {
  // Not `instanceof Error`: errors from another realm (Jest's VM contexts) fail it.
  const message = typeof err === 'object' && err !== null && 'message' in err ? err.message : err;
  return String(message);
}
