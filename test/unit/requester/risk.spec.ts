import { describe, expect, it } from '@jest/globals';
import { assessRisk } from '../../../src/requester/risk.js';

describe('assessRisk', () => {
  describe('networkMatch', () => {
    it('IPv4: same /24 matches, another /24 does not', () => {
      expect(assessRisk({ ip: '203.0.113.7' }, { ip: '203.0.113.250' })).toEqual({
        networkMatch: true,
        level: 'low',
        reasons: [],
      });
      expect(assessRisk({ ip: '203.0.113.7' }, { ip: '203.0.114.7' }).networkMatch).toBe(false);
    });

    it('IPv6: same /64 matches, another /64 does not', () => {
      expect(assessRisk({ ip: '2001:db8:1:2::10' }, { ip: '2001:db8:1:2:abcd::1' }).networkMatch).toBe(true);
      expect(assessRisk({ ip: '2001:db8:1:2::10' }, { ip: '2001:db8:1:3::10' }).networkMatch).toBe(false);
    });

    it('IPv4-mapped IPv6 compares as IPv4', () => {
      expect(assessRisk({ ip: '::ffff:203.0.113.7' }, { ip: '203.0.113.99' }).networkMatch).toBe(true);
      expect(assessRisk({ ip: '::ffff:203.0.113.7' }, { ip: '::ffff:198.51.100.7' }).networkMatch).toBe(false);
    });

    it('the same ASN matches across prefixes and families, when both are known', () => {
      expect(assessRisk({ ip: '198.51.100.7', asn: 3320 }, { ip: '2001:db8:1::1', asn: 3320 })).toEqual({
        networkMatch: true,
        level: 'low',
        reasons: [],
      });
      expect(assessRisk({ ip: '198.51.100.7', asn: 3320 }, { ip: '2001:db8:1::1', asn: 4812 }).networkMatch).toBe(
        false,
      );
      expect(assessRisk({ ip: '198.51.100.7', asn: 3320 }, { ip: '2001:db8:1::1', asn: null }).networkMatch).toBe(
        false,
      );
      expect(assessRisk({ ip: '198.51.100.7' }, { ip: '2001:db8:1::1' }).networkMatch).toBe(false);
    });

    it('is null when either IP is unknown, whatever the ASNs say', () => {
      for (const [a, b] of [
        [null, '203.0.113.7'],
        ['203.0.113.7', undefined],
        ['not-an-ip', '203.0.113.7'],
        ['', ''],
      ] as const) {
        expect(assessRisk({ ip: a, asn: 1 }, { ip: b, asn: 1 }).networkMatch).toBeNull();
      }
    });
  });

  describe('level and reasons', () => {
    it('elevated when the networks differ in the same country', () => {
      expect(assessRisk({ ip: '203.0.113.7', country: 'CN' }, { ip: '198.51.100.7', country: 'cn' })).toEqual({
        networkMatch: false,
        level: 'elevated',
        reasons: ['network_mismatch'],
      });
    });

    it('elevated when the networks differ and a country is unknown', () => {
      expect(assessRisk({ ip: '203.0.113.7', country: 'CN' }, { ip: '198.51.100.7' })).toEqual({
        networkMatch: false,
        level: 'elevated',
        reasons: ['network_mismatch', 'country_unknown'],
      });
    });

    it('high when the networks differ in different countries', () => {
      expect(assessRisk({ ip: '203.0.113.7', country: 'CN' }, { ip: '198.51.100.7', country: 'DE' })).toEqual({
        networkMatch: false,
        level: 'high',
        reasons: ['network_mismatch', 'country_mismatch'],
      });
    });

    it('elevated when the networks are unknown', () => {
      expect(assessRisk({ ip: null }, { ip: '198.51.100.7', country: 'DE' })).toEqual({
        networkMatch: null,
        level: 'elevated',
        reasons: ['network_unknown', 'country_unknown'],
      });
      expect(assessRisk({ ip: null, country: 'DE' }, { ip: '198.51.100.7', country: 'DE' }).reasons).toEqual([
        'network_unknown',
      ]);
    });

    it('low whenever the networks match, even with a country that differs', () => {
      expect(assessRisk({ ip: '203.0.113.7', country: 'CN' }, { ip: '203.0.113.8', country: 'DE' }).level).toBe('low');
    });
  });
});
