import { Injectable } from '@nestjs/common';
import { GeoIpReader } from './geoip.reader.js';
import { normalizeIp } from './ip-address.js';
import { buildRequesterContext, type ClientHints, type RequesterContext } from './requester-context.js';
import type { NetworkFacts } from './risk.js';

/** The requester context plus the network facts kept for the risk check at scan time. */
export interface CapturedRequester {
  context: RequesterContext;
  network: NetworkFacts & { ip: string | null; asn: number | null; country: string | null };
}

/**
 * Captures the requester at QR creation and the approver at scan time, with
 * the GeoIP databases when configured (GeoIpReader.none() otherwise).
 * Feed both `network`s to `assessRisk(requester, approver)`.
 */
@Injectable()
export class RequesterContextBuilder {
  constructor(private readonly geoip: GeoIpReader) {}

  capture(input: {
    ip: string | null | undefined;
    userAgent: string | null | undefined;
    createdAt: Date;
    clientHints?: ClientHints;
  }): CapturedRequester {
    const ip = normalizeIp(input.ip);
    const { location, asn, country } = this.geoip.lookup(ip);
    return {
      context: buildRequesterContext({ ...input, location }),
      network: { ip, asn, country },
    };
  }

  /** IP (normalised), ASN and country of one side, for `assessRisk`. */
  network(ip: string | null | undefined): CapturedRequester['network'] {
    const normalized = normalizeIp(ip);
    const { asn, country } = this.geoip.lookup(normalized);
    return { ip: normalized, asn, country };
  }
}
