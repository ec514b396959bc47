import { Inject, Injectable, type Provider } from '@nestjs/common';
import type { Request } from 'express';
import { QR_CONFIG, type QrConfig } from '../config/index.js';
import { RateLimiter, type RateLimitRule } from '../rate-limit/index.js';
import type { Principal } from '../auth/index.js';

export const QR_CREATE_LIMITS = Symbol('QR_CREATE_LIMITS');
export const QR_SCAN_LIMITS = Symbol('QR_SCAN_LIMITS');
export const QR_IMAGE_LIMITS = Symbol('QR_IMAGE_LIMITS');

const rules = (token: symbol, build: (config: QrConfig) => RateLimitRule[]): Provider => ({
  provide: token,
  inject: [QR_CONFIG],
  useFactory: build,
});

/** Creation per client IP; scan and confirm per user; images per client IP. (Status polls: `QrPollLimits`.) */
export const qrRateLimitProviders: Provider[] = [
  rules(QR_CREATE_LIMITS, (c) => [
    {
      name: 'qr-create',
      windowMs: 60_000,
      limit: c.createLimitPerIpPerMinute,
      key: (req: Request) => req.ip ?? 'unknown',
    },
  ]),
  // An image costs milliseconds of CPU (a 1024 px PNG ≈ 35 ms): a few per QR code are plenty.
  rules(QR_IMAGE_LIMITS, (c) => [
    {
      name: 'qr-image',
      windowMs: 60_000,
      limit: c.createLimitPerIpPerMinute * 4,
      key: (req: Request) => req.ip ?? 'unknown',
    },
  ]),
  rules(QR_SCAN_LIMITS, (c) => [
    {
      name: 'qr-scan',
      windowMs: 60_000,
      limit: c.scanLimitPerUserPerMinute,
      key: (req: Request) => (req.user as Principal | undefined)?.userId ?? 'anonymous',
    },
  ]),
];

/**
 * Status polls are counted after the poll token is checked: a poll with the
 * right token against its session's budget; one with an unknown id or a wrong
 * token against the caller's IP only. Knowing a QR id (anyone who sees the
 * code does) thus never spends the budget of the browser that holds it.
 */
@Injectable()
export class QrPollLimits {
  constructor(
    private readonly limiter: RateLimiter,
    @Inject(QR_CONFIG) private readonly config: QrConfig,
  ) {}

  /** A poll by the session's own browser. Throws `rate_limited` over the session's budget. */
  async admitted(id: string): Promise<void> {
    await this.limiter.consume([
      { name: 'qr-status', windowMs: 60_000, limit: this.config.statusLimitPerSessionPerMinute, key: id },
    ]);
  }

  /** A refused poll (wrong id or token), counted against `ip`. Throws `rate_limited` over the IP's budget. */
  async refused(ip: string | null): Promise<void> {
    await this.limiter.consume([
      {
        name: 'qr-status-miss',
        windowMs: 60_000,
        limit: this.config.statusMissLimitPerIpPerMinute,
        key: ip ?? 'unknown',
      },
    ]);
  }
}
