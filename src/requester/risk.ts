import { parseIp, samePrefix } from './ip-address.js';

/**
 * What is known about one side's network: the browser that asked for the QR
 * (the requester) or the phone that scanned it (the approver).
 * `asn` and `country` come from the offline GeoIP databases when configured
 * (GeoIpReader.lookup), `null`/absent otherwise.
 */
export interface NetworkFacts {
  ip: string | null | undefined;
  asn?: number | null;
  /** ISO 3166-1 alpha-2 code, e.g. "CN". */
  country?: string | null;
}

type RiskLevel = 'low' | 'elevated' | 'high';

/** Stable, machine-readable reasons; clients may translate them. */
const RISK_REASONS = {
  /** Both IPs are known and the networks differ (no shared /24 or /64, no shared ASN). */
  networkMismatch: 'network_mismatch',
  /** At least one IP is missing or unparseable: the networks cannot be compared. */
  networkUnknown: 'network_unknown',
  /** Both countries are known and differ. */
  countryMismatch: 'country_mismatch',
  /** The networks do not match (or are unknown) and at least one country is unknown. */
  countryUnknown: 'country_unknown',
} as const;
type RiskReason = (typeof RISK_REASONS)[keyof typeof RISK_REASONS];

export interface RiskAssessment {
  networkMatch: boolean | null;
  level: RiskLevel;
  reasons: RiskReason[];
}

/** Prefix lengths that count as "the same network". */
const SAME_NETWORK_PREFIX = { ipv4: 24, ipv6: 64 } as const;

/**
 * Compares where the QR was shown with where it was approved. A QRLJacking
 * attacker relays a victim's QR from *their* browser, so a phone approving a
 * login for a browser on another network (or in another country) deserves a
 * warning; the same LAN/home network is the normal case.
 *
 * Rules, in order:
 * 1. `networkMatch`
 *    - `null` when either IP is missing or not an IP (nothing to compare);
 *    - `true` when both IPs share a /24 (IPv4) or a /64 (IPv6), IPv4-mapped IPv6
 *      (`::ffff:1.2.3.4`) counting as the IPv4 address it carries, or when both
 *      ASNs are known and equal (a phone on the carrier's IPv6 and a laptop on the
 *      same ISP's IPv4 still match when the ASN database says so);
 *    - `false` otherwise (including one IPv4 and one IPv6 address of different ASNs).
 * 2. `level`
 *    - `low` when the networks match (no reasons);
 *    - `high` when both countries are known and differ (`country_mismatch`);
 *    - `elevated` otherwise: the networks differ or are unknown and the countries
 *      are the same or not both known.
 * 3. `reasons`: `network_mismatch` or `network_unknown`, then `country_mismatch`
 *    or `country_unknown` when the level is not `low`.
 */
export function assessRisk(requester: NetworkFacts, approver: NetworkFacts): RiskAssessment {
  const networkMatch = compareNetworks(requester, approver);
  if (networkMatch === true) return { networkMatch, level: 'low', reasons: [] };

  const reasons: RiskReason[] = [networkMatch === null ? RISK_REASONS.networkUnknown : RISK_REASONS.networkMismatch];
  const a = normalizeCountry(requester.country);
  const b = normalizeCountry(approver.country);
  if (a && b && a !== b) {
    reasons.push(RISK_REASONS.countryMismatch);
    return { networkMatch, level: 'high', reasons };
  }
  if (!a || !b) reasons.push(RISK_REASONS.countryUnknown);
  return { networkMatch, level: 'elevated', reasons };
}

function compareNetworks(requester: NetworkFacts, approver: NetworkFacts): boolean | null {
  const a = parseIp(requester.ip);
  const b = parseIp(approver.ip);
  if (!a || !b) return null;
  if (a.family === b.family) {
    const bits = a.family === 4 ? SAME_NETWORK_PREFIX.ipv4 : SAME_NETWORK_PREFIX.ipv6;
    if (samePrefix(a, b, bits)) return true;
  }
  return isAsn(requester.asn) && isAsn(approver.asn) && requester.asn === approver.asn;
}

function isAsn(asn: number | null | undefined): asn is number {
  return typeof asn === 'number' && Number.isInteger(asn) && asn > 0;
}

function normalizeCountry(country: string | null | undefined): string | null {
  return typeof country === 'string' && country.trim() !== '' ? country.trim().toUpperCase() : null;
}
