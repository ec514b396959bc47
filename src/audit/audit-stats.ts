import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface LoginCount {
  method: string;
  success: number;
  failure: number;
}

export interface QrFunnel {
  created: number;
  scanned: number;
  confirmed: number;
  consumed: number;
  cancelled: number;
  expired: number;
  medianMs: { scan: number | null; confirm: number | null; exchange: number | null };
}

/**
 * Statistics over the audit trail, aggregated by Postgres (GROUP BY, FILTER,
 * percentile_cont): whatever the window, a handful of rows come back. Every
 * query bounds `type IN (…)` and `at` in `[from, to)`, so it walks
 * `IDX_audit_events_type_at` for the types it counts and nothing else.
 */
@Injectable()
export class AuditStats {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Sign-ins per `detail.method` (`password`, `qr`, `oauth:<provider>`): successes
   * and failures. A failed attempt to link a provider to an account already
   * signed in (`detail.mode = 'link'`) is no sign-in and is not counted.
   */
  async logins(from: Date, to: Date): Promise<LoginCount[]> {
    const rows = (await this.dataSource.query(
      `SELECT detail->>'method' AS method,
              count(*) FILTER (WHERE type = 'auth.login_succeeded') AS success,
              count(*) FILTER (WHERE type = 'auth.login_failed') AS failure
         FROM audit_events
        WHERE type IN ('auth.login_succeeded', 'auth.login_failed')
          AND at >= $1::timestamptz AND at < $2::timestamptz
          AND detail->>'method' IS NOT NULL
          AND detail->>'mode' IS DISTINCT FROM 'link'
        GROUP BY 1
        ORDER BY 1`,
      [from, to],
    )) as Array<{ method: string; success: string | number; failure: string | number }>;
    return rows.map((r) => ({ method: r.method, success: Number(r.success), failure: Number(r.failure) }));
  }

  /**
   * The QR funnel: events of each step in the window, and the median time of
   * each step per QR session (`detail.qr`, the id's first 8 characters, as the
   * QR service records it): created → scanned, scanned → confirmed,
   * confirmed → consumed. A step counts when both its ends lie in the window;
   * a negative time (clocks of two instances apart) is left out.
   */
  async qrFunnel(from: Date, to: Date): Promise<QrFunnel> {
    const [row] = (await this.dataSource.query(
      `WITH events AS (
         SELECT type, at, detail->>'qr' AS qr
           FROM audit_events
          WHERE type IN ('qr.created', 'qr.scanned', 'qr.confirmed', 'qr.consumed', 'qr.cancelled', 'qr.expired')
            AND at >= $1::timestamptz AND at < $2::timestamptz
       ), counts AS (
         SELECT count(*) FILTER (WHERE type = 'qr.created')   AS created,
                count(*) FILTER (WHERE type = 'qr.scanned')   AS scanned,
                count(*) FILTER (WHERE type = 'qr.confirmed') AS confirmed,
                count(*) FILTER (WHERE type = 'qr.consumed')  AS consumed,
                count(*) FILTER (WHERE type = 'qr.cancelled') AS cancelled,
                count(*) FILTER (WHERE type = 'qr.expired')   AS expired
           FROM events
       ), steps AS (
         SELECT min(at) FILTER (WHERE type = 'qr.created')   AS created_at,
                min(at) FILTER (WHERE type = 'qr.scanned')   AS scanned_at,
                min(at) FILTER (WHERE type = 'qr.confirmed') AS confirmed_at,
                min(at) FILTER (WHERE type = 'qr.consumed')  AS consumed_at
           FROM events
          WHERE qr IS NOT NULL AND type IN ('qr.created', 'qr.scanned', 'qr.confirmed', 'qr.consumed')
          GROUP BY qr
       ), medians AS (
         SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY (extract(epoch FROM scanned_at - created_at) * 1000)::float8)
                  FILTER (WHERE scanned_at >= created_at) AS scan_ms,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY (extract(epoch FROM confirmed_at - scanned_at) * 1000)::float8)
                  FILTER (WHERE confirmed_at >= scanned_at) AS confirm_ms,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY (extract(epoch FROM consumed_at - confirmed_at) * 1000)::float8)
                  FILTER (WHERE consumed_at >= confirmed_at) AS exchange_ms
           FROM steps
       )
       SELECT * FROM counts CROSS JOIN medians`,
      [from, to],
    )) as Array<Record<string, string | number | null>>;
    const count = (name: string) => Number(row?.[name] ?? 0);
    const median = (name: string) => (row?.[name] === null || row?.[name] === undefined ? null : Number(row[name]));
    return {
      created: count('created'),
      scanned: count('scanned'),
      confirmed: count('confirmed'),
      consumed: count('consumed'),
      cancelled: count('cancelled'),
      expired: count('expired'),
      medianMs: { scan: median('scan_ms'), confirm: median('confirm_ms'), exchange: median('exchange_ms') },
    };
  }
}
