import { Injectable } from '@nestjs/common';
import { Clock, ValidationError } from '../../common/index.js';

import { AuditStats, type QrFunnel } from '../../audit/index.js';
import type { StatsWindowQuery } from './admin-stats.schemas.js';

const HOUR_MS = 3_600_000;
/** The window when none is given: the last 24 hours. */
const DEFAULT_WINDOW_MS = 24 * HOUR_MS;
/** The widest window asked for at once (a year, leap day included). */
const MAX_WINDOW_MS = 366 * 24 * HOUR_MS;

/** Methods always listed, with zeros when nobody used them; providers appear once used. */
const BASE_METHODS = ['password', 'qr'];

export interface Window {
  from: Date;
  to: Date;
}

export interface LoginStats {
  from: string;
  to: string;
  byMethod: Record<string, { success: number; failure: number }>;
}

export type QrStats = { from: string; to: string } & QrFunnel;

/** Sign-in and QR-funnel statistics over a time window `[from, to)`. */
@Injectable()
export class AdminStatsService {
  constructor(
    private readonly stats: AuditStats,
    private readonly clock: Clock,
  ) {}

  async logins(query: StatsWindowQuery): Promise<LoginStats> {
    const window = this.windowOf(query);
    const byMethod: LoginStats['byMethod'] = {};
    for (const method of BASE_METHODS) byMethod[method] = { success: 0, failure: 0 };
    for (const { method, success, failure } of await this.stats.logins(window.from, window.to))
      byMethod[method] = { success, failure };
    return { ...isoWindow(window), byMethod };
  }

  async qr(query: StatsWindowQuery): Promise<QrStats> {
    const window = this.windowOf(query);
    return { ...isoWindow(window), ...(await this.stats.qrFunnel(window.from, window.to)) };
  }

  /**
   * `to` defaults to now, `from` to 24 hours before `to`; `from` must come
   * before `to`, and the window span at most 366 days.
   */
  windowOf(query: StatsWindowQuery): Window {
    const to = query.to ?? this.clock.date();
    const from = query.from ?? new Date(to.getTime() - DEFAULT_WINDOW_MS);
    if (from.getTime() >= to.getTime()) throw new ValidationError([{ path: 'from', message: 'must be before to' }]);
    if (to.getTime() - from.getTime() > MAX_WINDOW_MS)
      throw new ValidationError([{ path: 'to', message: 'must be at most 366 days after from' }]);
    return { from, to };
  }
}

const isoWindow = (window: Window) => ({ from: window.from.toISOString(), to: window.to.toISOString() });
