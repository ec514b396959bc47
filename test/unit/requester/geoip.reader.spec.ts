import { describe, expect, it, beforeAll, afterAll } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFixtures, FIXTURE_DIR } from '../../fixtures/geoip/fixtures.mjs';
import { GeoIpReader } from '../../../src/requester/geoip.reader.js';
import { RequesterContextBuilder } from '../../../src/requester/requester-context.builder.js';
import { assessRisk } from '../../../src/requester/risk.js';

const CITY = join(FIXTURE_DIR, 'GeoLite2-City-Test.mmdb');
const COUNTRY = join(FIXTURE_DIR, 'GeoLite2-Country-Test.mmdb');
const ASN = join(FIXTURE_DIR, 'GeoLite2-ASN-Test.mmdb');

describe('GeoIpReader', () => {
  let reader: GeoIpReader;
  let dir: string;

  beforeAll(async () => {
    reader = await GeoIpReader.open({ city: CITY, asn: ASN });
    dir = await mkdtemp(join(tmpdir(), 'scangate-geoip-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the committed fixtures are exactly what test/fixtures/geoip/fixtures.mjs makes', async () => {
    for (const [name, bytes] of Object.entries(buildFixtures())) {
      expect((await readFile(join(FIXTURE_DIR, name))).equals(bytes)).toBe(true);
    }
  });

  it('answers "City, CC" and the ASN for IPv4 and IPv6 networks of the databases', () => {
    expect(reader.lookup('203.0.113.7')).toEqual({ location: 'Shanghai, CN', country: 'CN', asn: 4812 });
    expect(reader.lookup('::ffff:203.0.113.200')).toEqual({ location: 'Shanghai, CN', country: 'CN', asn: 4812 });
    expect(reader.lookup('2001:db8:1:ffff::1')).toEqual({ location: 'Berlin, DE', country: 'DE', asn: 3320 });
    expect(reader.lookup('192.0.2.1')).toEqual({ location: 'Paris, FR', country: 'FR', asn: null });
    expect(reader.location('203.0.113.1')).toBe('Shanghai, CN');
    expect(reader.asn('198.51.100.9')).toBe(3320);
  });

  it('answers "CC" when the record has no city, or none in English', () => {
    expect(reader.lookup('198.51.100.9')).toEqual({ location: 'DE', country: 'DE', asn: 3320 });
    expect(reader.location('2001:db8:2::1')).toBe('CN');
  });

  it('answers null for addresses outside the databases, for garbage and for private addresses', () => {
    const nothing = { location: null, country: null, asn: null };
    for (const ip of ['8.8.8.8', '192.0.2.200', '2001:db8:3::1', 'nope', '', null, undefined]) {
      expect(reader.lookup(ip)).toEqual(nothing);
    }
    // 10.0.0.0/8 is in both fixtures, yet never answered.
    for (const ip of ['10.1.2.3', '::ffff:10.1.2.3', '127.0.0.1', '::1', '192.168.1.1', 'fd00::1']) {
      expect(reader.lookup(ip)).toEqual(nothing);
    }
  });

  it('works with a Country database alone (locations "CC") or an ASN database alone', async () => {
    const country = await GeoIpReader.open({ city: COUNTRY });
    expect(country.lookup('203.0.113.7')).toEqual({ location: 'CN', country: 'CN', asn: null });
    expect(country.databases).toEqual({ city: 'GeoLite2-Country', asn: null });
    const asnOnly = await GeoIpReader.open({ asn: ASN });
    expect(asnOnly.lookup('203.0.113.7')).toEqual({ location: null, country: null, asn: 4812 });
  });

  it('none() and open({}) answer null', async () => {
    for (const r of [GeoIpReader.none(), await GeoIpReader.open({}), await GeoIpReader.open({ city: null, asn: '' })]) {
      expect(r.lookup('203.0.113.7')).toEqual({ location: null, country: null, asn: null });
      expect(r.databases).toEqual({ city: null, asn: null });
    }
  });

  it('fails to open a missing file with an error naming it', async () => {
    const missing = join(dir, 'GeoLite2-City.mmdb');
    await expect(GeoIpReader.open({ city: missing })).rejects.toThrow(
      `GeoIP city database "${missing}" cannot be read: ENOENT: no such file or directory`,
    );
    await expect(GeoIpReader.open({ city: CITY, asn: join(dir, 'asn.mmdb') })).rejects.toThrow(
      /GeoIP ASN database ".*asn\.mmdb"/,
    );
  });

  it('fails to open a corrupt or truncated file with an error naming it', async () => {
    const garbage = join(dir, 'garbage.mmdb');
    await writeFile(garbage, 'this is not a MaxMind database\n'.repeat(10));
    await expect(GeoIpReader.open({ city: garbage })).rejects.toThrow(
      `GeoIP city database "${garbage}" is not a valid MaxMind DB (mmdb) file`,
    );
    const truncated = join(dir, 'truncated.mmdb');
    await writeFile(truncated, (await readFile(CITY)).subarray(0, 600));
    await expect(GeoIpReader.open({ city: truncated })).rejects.toThrow(`GeoIP city database "${truncated}"`);
    await expect(GeoIpReader.open({ city: dir })).rejects.toThrow(`GeoIP city database "${dir}" cannot be read`);
  });

  it('refuses a database of the wrong kind, naming the file and its type', async () => {
    await expect(GeoIpReader.open({ city: ASN })).rejects.toThrow(
      `GeoIP city database "${ASN}" is of type "GeoLite2-ASN", not a city database`,
    );
    await expect(GeoIpReader.open({ asn: CITY })).rejects.toThrow(
      `GeoIP ASN database "${CITY}" is of type "GeoLite2-City"`,
    );
  });

  it('feeds the requester context and the risk check', () => {
    const builder = new RequesterContextBuilder(reader);
    const requester = builder.capture({
      ip: '203.0.113.7',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
      createdAt: new Date(0),
    });
    expect(requester.context.location).toBe('Shanghai, CN');
    expect(requester.network).toEqual({ ip: '203.0.113.7', asn: 4812, country: 'CN' });

    // Same ASN, another prefix: a match.
    expect(assessRisk(requester.network, { ip: '203.0.113.99', asn: 4812, country: 'CN' }).level).toBe('low');
    // A phone in Germany approving a browser in Shanghai.
    expect(assessRisk(requester.network, builder.network('2001:db8:1::1'))).toEqual({
      networkMatch: false,
      level: 'high',
      reasons: ['network_mismatch', 'country_mismatch'],
    });
    // A phone on a private address (Wi-Fi behind the same NAT seen from a proxy): unknown country.
    expect(assessRisk(requester.network, builder.network('10.0.0.5'))).toEqual({
      networkMatch: false,
      level: 'elevated',
      reasons: ['network_mismatch', 'country_unknown'],
    });
  });

  it('is injected through a factory provider into RequesterContextBuilder', async () => {
    const moduleRef = await Test.createTestingModule({
      providers: [
        RequesterContextBuilder,
        { provide: GeoIpReader, useFactory: () => GeoIpReader.open({ city: CITY, asn: ASN }) },
      ],
    }).compile();
    const builder = moduleRef.get(RequesterContextBuilder);
    expect(builder.network('2001:db8:1::1')).toEqual({ ip: '2001:db8:1::1', asn: 3320, country: 'DE' });
    await moduleRef.close();
  });
});
