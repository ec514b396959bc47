import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { CursorKey } from '../database/index.js';
import { Clock } from '../common/index.js';
import { QR_CONFIG, type QrConfig } from '../config/index.js';
import type { QrStatus } from './qr-session.js';
import { QR_RETENTION_MS } from './qr-sessions.store.js';

/** Audit events written a little late (a busy instance, a slow sweep) still count. */
const SLACK_MS = 60_000;

/** The lifetime facts the reconstruction needs, all in milliseconds except `now`. */
interface QrTimes {
  /** A QR session's lifetime (QR_TTL_SECONDS): past `created + ttl`, a session with no ending event is expired. */
  ttlMs: number;
  /** How long after its creation a session's events can still come (lifetime + the store's retention + slack). */
  windowMs: number;
  now: Date;
}

/** One QR session as its audit events tell it. */
export interface QrSessionRow {
  qr: string;
  status: QrStatus;
  createdAt: Date;
  expiresAt: Date;
  scannedAt: Date | null;
  confirmedAt: Date | null;
  consumedAt: Date | null;
  cancelledAt: Date | null;
  expiredAt: Date | null;
  cancelReason: string | null;
  requesterIp: string | null;
  requesterUserAgent: string | null;
  scannerUserId: string | null;
  scannerSessionId: string | null;
  scannerIp: string | null;
  webSessionId: string | null;
  exchangeIp: string | null;
  key: CursorKey;
}

/** Statuses only a session within its lifetime can have. */
const LIVE: ReadonlySet<QrStatus> = new Set(['pending', 'scanned', 'confirmed']);
const STEPS = `'qr.scanned', 'qr.confirmed', 'qr.consumed', 'qr.cancelled', 'qr.expired'`;
const EXPIRES = `(c.at + $1::float8 * interval '1 millisecond')`;

/**
 * QR sessions rebuilt from the audit trail, in SQL. QR sessions themselves
 * live in the store (Redis or in-process) for minutes; their history is the
 * audit events `qr.created` … `qr.expired`, each holding the first 8
 * characters of the QR id (`detail.qr`: never the whole id, never the poll
 * token). One row per `qr.created` event; its later events are found by that
 * prefix within the session's possible lifetime, so the lookup is bounded by
 * `(type, at)` (`IDX_audit_events_type_at`) even without an index on the
 * prefix; with one (`((detail->>'qr'), at) WHERE (detail->>'qr') IS NOT NULL`)
 * each lookup is a single index probe.
 *
 * Parameters shared by every statement: $1 ttl ms, $2 window ms, $3 now.
 */
function reconstructed(where: string): string {
  return `
    SELECT c.id AS event_id, c.at AS created_at, c.at::text AS k1, c.id::text AS k2,
           c.detail->>'qr' AS qr, c.ip AS requester_ip, c.user_agent AS requester_user_agent,
           ${EXPIRES} AS expires_at, q.*,
           CASE WHEN q.consumed_at IS NOT NULL THEN 'consumed'
                WHEN q.cancelled_at IS NOT NULL THEN 'cancelled'
                WHEN q.expired_at IS NOT NULL OR ${EXPIRES} <= $3::timestamptz THEN 'expired'
                WHEN q.confirmed_at IS NOT NULL THEN 'confirmed'
                WHEN q.scanned_at IS NOT NULL THEN 'scanned'
                ELSE 'pending' END AS status
      FROM audit_events c
     CROSS JOIN LATERAL (
       SELECT min(e.at) FILTER (WHERE e.type = 'qr.scanned') AS scanned_at,
              min(e.at) FILTER (WHERE e.type = 'qr.confirmed') AS confirmed_at,
              min(e.at) FILTER (WHERE e.type = 'qr.consumed') AS consumed_at,
              min(e.at) FILTER (WHERE e.type = 'qr.cancelled') AS cancelled_at,
              min(e.at) FILTER (WHERE e.type = 'qr.expired') AS expired_at,
              (array_agg(e.detail->>'reason' ORDER BY e.at) FILTER (WHERE e.type = 'qr.cancelled'))[1] AS cancel_reason,
              (array_agg(e.user_id::text ORDER BY e.at) FILTER (WHERE e.type = 'qr.scanned'))[1] AS scanner_user_id,
              (array_agg(e.session_id::text ORDER BY e.at) FILTER (WHERE e.type = 'qr.scanned'))[1] AS scanner_session_id,
              (array_agg(e.ip ORDER BY e.at) FILTER (WHERE e.type = 'qr.scanned'))[1] AS scanner_ip,
              (array_agg(e.session_id::text ORDER BY e.at) FILTER (WHERE e.type = 'qr.consumed'))[1] AS web_session_id,
              (array_agg(e.ip ORDER BY e.at) FILTER (WHERE e.type = 'qr.consumed'))[1] AS exchange_ip
         FROM audit_events e
        WHERE e.type IN (${STEPS})
          AND e.detail->>'qr' = c.detail->>'qr'
          AND e.at >= c.at AND e.at < c.at + $2::float8 * interval '1 millisecond'
     ) q
     WHERE c.type = 'qr.created' AND ${where}`;
}

@Injectable()
export class QrHistory {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
    @Inject(QR_CONFIG) private readonly config: QrConfig,
  ) {}

  private times(): QrTimes {
    const ttlMs = this.config.ttlSeconds * 1000;
    return { ttlMs, windowMs: ttlMs + QR_RETENTION_MS + SLACK_MS, now: this.clock.date() };
  }

  /** Newest first, keyset on the creation event's `(at, id)`; `status` filters on the reconstructed status. */
  async page(filter: { status?: QrStatus; after: CursorKey | null; limit: number }): Promise<QrSessionRow[]> {
    const times = this.times();
    const params: unknown[] = [times.ttlMs, times.windowMs, times.now];
    const param = (value: unknown) => `$${params.push(value)}`;
    const inner = [
      filter.after
        ? `(c.at, c.id) < (${param(filter.after[0])}::timestamptz, ${param(filter.after[1])}::uuid)`
        : 'TRUE',
    ];
    if (filter.status && LIVE.has(filter.status)) {
      // Only a session younger than the lifetime can still be pending, scanned or confirmed: a short range of (type, at).
      inner.push(`c.at > $3::timestamptz - $1::float8 * interval '1 millisecond'`);
    } else if (filter.status === 'cancelled') {
      // Usually rare: found from the cancellations (a hash semi-join over them) rather than by rebuilding every session.
      inner.push(
        `EXISTS (SELECT 1 FROM audit_events t WHERE t.type = 'qr.cancelled' AND t.detail->>'qr' = c.detail->>'qr' AND t.at >= c.at AND t.at < c.at + $2::float8 * interval '1 millisecond')`,
      );
    }
    const outer = filter.status ? `WHERE r.status = ${param(filter.status)}` : '';
    const rows = (await this.dataSource.query(
      `SELECT r.* FROM (${reconstructed(inner.join(' AND '))}) r ${outer}
        ORDER BY r.created_at DESC, r.event_id DESC
        LIMIT ${param(filter.limit + 1)}`,
      params,
    )) as Array<Record<string, unknown>>;
    return rows.map(toRow);
  }

  /** How many sessions created in `(from, to]` (the last QR lifetime, `to` being now) are in each status now. */
  async countsWithinLifetime(): Promise<{ from: Date; to: Date; byStatus: Partial<Record<QrStatus, number>> }> {
    const times = this.times();
    const rows = (await this.dataSource.query(
      `SELECT r.status, count(*)::int AS n
         FROM (${reconstructed(`c.at > $3::timestamptz - $1::float8 * interval '1 millisecond' AND c.at <= $3::timestamptz`)}) r
        GROUP BY r.status`,
      [times.ttlMs, times.windowMs, times.now],
    )) as Array<{ status: QrStatus; n: number }>;
    return {
      from: new Date(times.now.getTime() - times.ttlMs),
      to: times.now,
      byStatus: Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])),
    };
  }
}

const date = (value: unknown): Date | null =>
  value === null || value === undefined ? null : new Date(value as string | Date);
const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

function toRow(raw: Record<string, unknown>): QrSessionRow {
  return {
    qr: String(raw.qr ?? ''),
    status: raw.status as QrStatus,
    createdAt: date(raw.created_at)!,
    expiresAt: date(raw.expires_at)!,
    scannedAt: date(raw.scanned_at),
    confirmedAt: date(raw.confirmed_at),
    consumedAt: date(raw.consumed_at),
    cancelledAt: date(raw.cancelled_at),
    expiredAt: date(raw.expired_at),
    cancelReason: text(raw.cancel_reason),
    requesterIp: text(raw.requester_ip),
    requesterUserAgent: text(raw.requester_user_agent),
    scannerUserId: text(raw.scanner_user_id),
    scannerSessionId: text(raw.scanner_session_id),
    scannerIp: text(raw.scanner_ip),
    webSessionId: text(raw.web_session_id),
    exchangeIp: text(raw.exchange_ip),
    key: [String(raw.k1), String(raw.k2)],
  };
}
