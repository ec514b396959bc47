import { describe, expect, it } from '@jest/globals';
import { isNonPublicIp, normalizeIp, parseIp, samePrefix } from '../../../src/requester/ip-address.js';

describe('parseIp', () => {
  it('parses IPv4 and IPv6', () => {
    expect(parseIp('203.0.113.7')).toEqual({
      family: 4,
      bytes: Uint8Array.from([203, 0, 113, 7]),
      text: '203.0.113.7',
    });
    const v6 = parseIp('2001:DB8::1');
    expect(v6?.family).toBe(6);
    expect(Array.from(v6!.bytes)).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(v6?.text).toBe('2001:db8::1');
  });

  it('reads IPv4-mapped IPv6 (dotted and hex) as IPv4', () => {
    expect(normalizeIp('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(normalizeIp('::FFFF:cb00:7107')).toBe('203.0.113.7');
    expect(parseIp('::ffff:10.0.0.1')?.family).toBe(4);
  });

  it('drops brackets and zone ids, and refuses what is not an IP', () => {
    expect(normalizeIp('[2001:db8::1]')).toBe('2001:db8::1');
    expect(normalizeIp('fe80::1%eth0')).toBe('fe80::1');
    for (const bad of ['', 'localhost', '1.2.3', '203.0.113.256', '2001:db8::g', null, undefined]) {
      expect(parseIp(bad)).toBeNull();
    }
  });
});

describe('samePrefix', () => {
  it('compares whole and partial bytes, never across families', () => {
    expect(samePrefix(parseIp('10.1.2.3')!, parseIp('10.1.2.200')!, 24)).toBe(true);
    expect(samePrefix(parseIp('10.1.2.3')!, parseIp('10.1.3.3')!, 24)).toBe(false);
    expect(samePrefix(parseIp('172.16.0.1')!, parseIp('172.31.255.255')!, 12)).toBe(true);
    expect(samePrefix(parseIp('172.16.0.1')!, parseIp('172.32.0.1')!, 12)).toBe(false);
    expect(samePrefix(parseIp('0.0.0.0')!, parseIp('::')!, 0)).toBe(false);
  });
});

describe('isNonPublicIp', () => {
  it.each([
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '127.0.0.1',
    '169.254.1.1',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fd00::1',
    'fe80::1',
    'ff02::1',
    '::ffff:192.168.0.1',
  ])('%s is not public', (ip) => {
    expect(isNonPublicIp(parseIp(ip)!)).toBe(true);
  });

  it.each(['203.0.113.7', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2001:db8::1', '2606:4700::1111'])(
    '%s is public',
    (ip) => {
      expect(isNonPublicIp(parseIp(ip)!)).toBe(false);
    },
  );
});
