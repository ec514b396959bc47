import type { Provider } from '@nestjs/common';
import type { Request } from 'express';
import { QR_CONFIG, type QrConfig } from '../config/config.types.js';
import type { RateLimitRule } from '../rate-limit/rate-limiter.js';
import type { Principal } from '../auth/auth.principal.js';

export const QR_CREATE_LIMITS = Symbol('QR_CREATE_LIMITS');
export const QR_STATUS_LIMITS = Symbol('QR_STATUS_LIMITS');
export const QR_SCAN_LIMITS = Symbol('QR_SCAN_LIMITS');
export const QR_IMAGE_LIMITS = Symbol('QR_IMAGE_LIMITS');

const rules = (token: symbol, build: (config: QrConfig) => RateLimitRule[]): Provider => ({
  provide: token,
  inject: [QR_CONFIG],
  useFactory: build,
});

/** Creation per client IP; status per QR session; scan and confirm per user; images per client IP. */
export const qrRateLimitProviders: Provider[] = [
  rules(QR_CREATE_LIMITS, (c) => [{ name: 'qr-create', windowMs: 60_000, limit: c.createLimitPerIpPerMinute, key: (req: Request) => req.ip ?? 'unknown' }]),
  rules(QR_STATUS_LIMITS, (c) => [{ name: 'qr-status', windowMs: 60_000, limit: c.statusLimitPerSessionPerMinute, key: (req: Request) => String(req.params.id) }]),
  // An image costs milliseconds of CPU (a 1024 px PNG ≈ 35 ms): a few per QR code are plenty.
  rules(QR_IMAGE_LIMITS, (c) => [{ name: 'qr-image', windowMs: 60_000, limit: c.createLimitPerIpPerMinute * 4, key: (req: Request) => req.ip ?? 'unknown' }]),
  rules(QR_SCAN_LIMITS, (c) => [
    { name: 'qr-scan', windowMs: 60_000, limit: c.scanLimitPerUserPerMinute, key: (req: Request) => (req.user as Principal | undefined)?.userId ?? 'anonymous' },
  ]),
];
