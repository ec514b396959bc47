import { isIPv4, isIPv6 } from 'node:net';

/**
 * A parsed IP address: 4 bytes (IPv4) or 16 bytes (IPv6), network byte order.
 * IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, `::ffff:102:304`) are parsed as
 * the IPv4 address they carry, so a dual-stack socket and an IPv4 socket see the
 * same client as the same address.
 */
export interface ParsedIp {
  family: 4 | 6;
  bytes: Uint8Array;
  /** Canonical text: dotted quad for IPv4, the input's IPv6 text (zone id dropped) otherwise. */
  text: string;
}

/** Parses an IP address as found in `req.ip`; `null` for anything that is not one. */
export function parseIp(input: string | null | undefined): ParsedIp | null {
  if (typeof input !== 'string') return null;
  let text = input.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  if (isIPv4(text)) return { family: 4, bytes: v4Bytes(text), text };
  if (!isIPv6(text)) return null;
  const bytes = v6Bytes(text);
  if (isV4Mapped(bytes)) {
    const v4 = bytes.slice(12);
    return { family: 4, bytes: v4, text: v4.join('.') };
  }
  return { family: 6, bytes, text: text.toLowerCase() };
}

/** The IP in canonical form (mapped IPv6 → IPv4), or `null` when it is not an IP. */
export function normalizeIp(input: string | null | undefined): string | null {
  return parseIp(input)?.text ?? null;
}

/** True when the first `bits` bits of two addresses of the same family are equal. */
export function samePrefix(a: ParsedIp, b: ParsedIp, bits: number): boolean {
  if (a.family !== b.family) return false;
  const whole = Math.floor(bits / 8);
  for (let i = 0; i < whole; i++) if (a.bytes[i] !== b.bytes[i]) return false;
  const rest = bits % 8;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a.bytes[whole]! & mask) === (b.bytes[whole]! & mask);
}

// Ranges that never locate a client on the internet: a GeoIP lookup of them
// would at best say nothing and at worst repeat a database's placeholder.
const NON_PUBLIC_V4: Array<[string, number]> = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // carrier-grade NAT (RFC 6598)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local
  ['172.16.0.0', 12], // RFC 1918
  ['192.168.0.0', 16], // RFC 1918
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];
const NON_PUBLIC_V6: Array<[string, number]> = [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
];
const NON_PUBLIC = [...NON_PUBLIC_V4, ...NON_PUBLIC_V6].map(([net, bits]) => ({ net: parseIp(net)!, bits }));

/** Private, loopback, link-local, CGNAT, multicast and unspecified addresses. */
export function isNonPublicIp(ip: ParsedIp): boolean {
  return NON_PUBLIC.some(({ net, bits }) => samePrefix(ip, net, bits));
}

function v4Bytes(text: string): Uint8Array {
  return Uint8Array.from(text.split('.').map(Number));
}

function v6Bytes(text: string): Uint8Array {
  const bytes = new Uint8Array(16);
  let head = text;
  let tail = '';
  const gap = text.indexOf('::');
  if (gap >= 0) {
    head = text.slice(0, gap);
    tail = text.slice(gap + 2);
  }
  const words = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const group of part.split(':')) {
      if (group.includes('.')) {
        const [a, b, c, d] = v4Bytes(group);
        out.push((a! << 8) | b!, (c! << 8) | d!);
      } else {
        out.push(parseInt(group, 16));
      }
    }
    return out;
  };
  const front = words(head);
  const back = words(tail);
  const all = [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  all.forEach((word, i) => {
    bytes[i * 2] = word >> 8;
    bytes[i * 2 + 1] = word & 0xff;
  });
  return bytes;
}

function isV4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}
