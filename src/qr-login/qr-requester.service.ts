import { Injectable } from '@nestjs/common';
import type { Requester } from './qr-session.js';
import { RequesterContextBuilder, assessRisk, type RiskAssessment } from '../requester/index.js';

export type Risk = RiskAssessment;

/** Who asked (captured at creation) and how risky the approval looks (at scan). */
@Injectable()
export class QrRequesterService {
  constructor(private readonly builder: RequesterContextBuilder) {}

  async describe(ip: string | null, userAgent: string | null, at: Date): Promise<Requester> {
    const { context, network } = this.builder.capture({ ip, userAgent, createdAt: at });
    return { ...context, asn: network.asn, country: network.country };
  }

  /** Compares the requester's network with the approving phone's (RFC 10027 proximity). */
  async risk(requester: Requester, approverIp: string | null): Promise<Risk> {
    return assessRisk(
      { ip: requester.ip, asn: requester.asn ?? null, country: requester.country ?? null },
      this.builder.network(approverIp),
    );
  }
}
