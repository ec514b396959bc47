import { Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery } from '@nestjs/swagger';
import { ApiErrors } from '../../common/index.js';
import { QR_STATUSES, QrCountsQuery, QrSessionsQuery } from './admin-qr-sessions.schemas.js';
import { AdminQrSessionsService } from './admin-qr-sessions.service.js';
import { AdminController } from '../common/admin-route.js';

const QR_SESSION_EXAMPLE = {
  id: 'Q3k9xZ2a',
  status: 'consumed',
  createdAt: '2026-11-26T08:00:00.000Z',
  expiresAt: '2026-11-26T08:02:00.000Z',
  scannedAt: '2026-11-26T08:00:07.412Z',
  confirmedAt: '2026-11-26T08:00:11.090Z',
  consumedAt: '2026-11-26T08:00:11.530Z',
  cancelledAt: null,
  expiredAt: null,
  cancelReason: null,
  requester: {
    ip: '198.51.100.7',
    userAgent:
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36',
    browser: 'Chrome 142',
    os: 'Windows 10',
    deviceType: 'desktop',
    location: 'Shanghai, CN',
  },
  scanner: {
    userId: '0b6f2a1e-6c1d-4a57-9a53-0f1d6c1b2e3f',
    sessionId: '5d1c9e47-2f0b-4b8e-8d7a-3c2e1f0a9b8c',
    ip: '203.0.113.24',
    location: 'Beijing, CN',
  },
  exchange: { sessionId: '9a7e3b21-4c5d-4e6f-8a9b-0c1d2e3f4a5b', ip: '198.51.100.7' },
};

/**
 * QR sessions for investigations (`/api/v1/admin/qr-sessions`), rebuilt from
 * the audit trail: recent ones with requester context, and live counts.
 * Read-only: admin and auditor.
 */
@AdminController('qr-sessions', ['admin', 'auditor'])
export class AdminQrSessionsController {
  constructor(private readonly service: AdminQrSessionsService) {}

  @Get()
  @ApiOperation({
    summary: 'Recent QR sessions, newest first, with requester context (never a poll token)',
    description:
      'Rebuilt from the audit events `qr.created` … `qr.expired`: `id` is the first 8 characters of the QR id (all the events keep); `status` is the latest one ' +
      '(a session past its lifetime with no ending event reads `expired`); `requester` is the browser that created it (browser, OS and location derived from its ' +
      'user agent and IP), `scanner` the phone that scanned it, `exchange` the web session it became.',
  })
  @ApiQuery({ name: 'status', required: false, enum: QR_STATUSES })
  @ApiQuery({ name: 'limit', required: false, example: 50, description: '1–200' })
  @ApiQuery({ name: 'cursor', required: false, description: '`nextCursor` of the previous page' })
  @ApiOkResponse({
    schema: { example: { items: [QR_SESSION_EXAMPLE], nextCursor: 'WyJxci1zZXNzaW9uczotY3JlYXRlZEF0Ii…' } },
  })
  @ApiErrors('validation.failed', 'auth.unauthenticated', 'auth.forbidden')
  list(@Query({ schema: QrSessionsQuery }) query: QrSessionsQuery) {
    return this.service.list(query);
  }

  @Get('counts')
  @ApiOperation({
    summary: 'Live counts by status of the QR sessions created within the QR lifetime',
    description:
      'Sessions created in `(now − QR_TTL_SECONDS, now]` — the only ones that can still be pending, scanned or confirmed — by their status now.',
  })
  @ApiOkResponse({
    schema: {
      example: {
        from: '2026-11-26T07:58:00.000Z',
        to: '2026-11-26T08:00:00.000Z',
        windowSeconds: 120,
        total: 9,
        byStatus: { pending: 4, scanned: 1, confirmed: 0, consumed: 3, cancelled: 1, expired: 0 },
      },
    },
  })
  @ApiErrors('validation.failed', 'auth.unauthenticated', 'auth.forbidden')
  counts(@Query({ schema: QrCountsQuery }) _query: Record<string, never>) {
    return this.service.counts();
  }
}
