import { Inject, Injectable } from '@nestjs/common';
import { QR_CONFIG, type QrConfig } from '../../config/index.js';
import { QrHistory, type QrSessionRow, type QrStatus } from '../../qr-login/index.js';

import { normalizeIp, RequesterContextBuilder } from '../../requester/index.js';

import { decodeCursor, pageOf, type Page } from '../common/admin-list.js';
import { timestampIdKey } from '../common/admin-keyset.js';
import { QR_STATUSES, type QrSessionsQuery } from './admin-qr-sessions.schemas.js';

/** The one order of the list (the cursor carries it). */
const SORT = 'qr-sessions:-createdAt';

export interface QrCounts {
  /** The window: sessions created in `(from, to]`, `to` being now and `windowSeconds` the QR lifetime. */
  from: string;
  to: string;
  windowSeconds: number;
  total: number;
  byStatus: Record<QrStatus, number>;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

/**
 * QR sessions for investigators (QRLJacking reports): who asked (requester
 * IP, browser, OS, location), who scanned and approved, and how it ended, as
 * the audit trail tells it. Nothing here can be used to take over a session:
 * the events hold only the first 8 characters of a QR id, never a poll token.
 */
@Injectable()
export class AdminQrSessionsService {
  constructor(
    private readonly history: QrHistory,
    private readonly requesters: RequesterContextBuilder,
    @Inject(QR_CONFIG) private readonly config: QrConfig,
  ) {}

  async list(query: QrSessionsQuery): Promise<Page<ReturnType<AdminQrSessionsService['view']>>> {
    const after = timestampIdKey(decodeCursor(query.cursor, SORT, 2));
    const rows = await this.history.page({ status: query.status, after, limit: query.limit });
    return pageOf(
      rows,
      query.limit,
      SORT,
      (row) => row.key,
      (row) => this.view(row),
    );
  }

  /**
   * Live counts: the sessions created within the last QR lifetime
   * (QR_TTL_SECONDS) — the only ones that can still be waiting, scanned or
   * confirmed — by their status now.
   */
  async counts(): Promise<QrCounts> {
    const found = await this.history.countsWithinLifetime();
    const byStatus = Object.fromEntries(QR_STATUSES.map((s) => [s, found.byStatus[s] ?? 0])) as Record<
      QrStatus,
      number
    >;
    return {
      from: found.from.toISOString(),
      to: found.to.toISOString(),
      windowSeconds: this.config.ttlSeconds,
      total: Object.values(byStatus).reduce((a, b) => a + b, 0),
      byStatus,
    };
  }

  private view(row: QrSessionRow) {
    const requester = this.requesters.capture({
      ip: row.requesterIp,
      userAgent: row.requesterUserAgent,
      createdAt: row.createdAt,
    }).context;
    return {
      /** The first 8 characters of the QR id: all the audit trail keeps. */
      id: row.qr,
      status: row.status,
      createdAt: row.createdAt.toISOString(),
      expiresAt: row.expiresAt.toISOString(),
      scannedAt: iso(row.scannedAt),
      confirmedAt: iso(row.confirmedAt),
      consumedAt: iso(row.consumedAt),
      cancelledAt: iso(row.cancelledAt),
      expiredAt: iso(row.expiredAt),
      cancelReason: row.cancelReason,
      requester: {
        ip: requester.ip,
        userAgent: row.requesterUserAgent,
        browser: requester.browser,
        os: requester.os,
        deviceType: requester.deviceType,
        location: requester.location,
      },
      scanner: row.scannerUserId
        ? {
            userId: row.scannerUserId,
            sessionId: row.scannerSessionId,
            ip: normalizeIp(row.scannerIp),
            location: this.locationOf(row.scannerIp, row.createdAt),
          }
        : null,
      exchange:
        row.webSessionId || row.exchangeIp ? { sessionId: row.webSessionId, ip: normalizeIp(row.exchangeIp) } : null,
    };
  }

  private locationOf(ip: string | null, at: Date): string | null {
    return this.requesters.capture({ ip, userAgent: null, createdAt: at }).context.location;
  }
}
