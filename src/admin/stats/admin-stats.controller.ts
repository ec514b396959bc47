import { Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { Roles } from '../../auth/index.js';
import { ApiErrors } from '../../common/index.js';
import { StatsWindowQuery } from './admin-stats.schemas.js';
import { AdminStatsService } from './admin-stats.service.js';
import { AdminController } from '../common/admin-route.js';

const WINDOW = { from: '2026-11-26T08:00:00.000Z', to: '2026-11-27T08:00:00.000Z' };

@AdminController('stats')
export class AdminStatsController {
  constructor(private readonly service: AdminStatsService) {}

  @Get('logins')
  @Roles('admin', 'auditor')
  @ApiOperation({
    summary: 'Sign-ins per method (password, qr, oauth:<provider>) and outcome over a time window',
    description: '`password` and `qr` are always listed; a provider appears once used in the window.',
  })
  @ApiOkResponse({
    schema: {
      example: {
        ...WINDOW,
        byMethod: {
          password: { success: 412, failure: 37 },
          qr: { success: 1290, failure: 0 },
          'oauth:wechat': { success: 233, failure: 4 },
          'oauth:dingtalk': { success: 58, failure: 1 },
        },
      },
    },
  })
  @ApiErrors('validation.failed', 'auth.unauthenticated', 'auth.forbidden')
  logins(@Query({ schema: StatsWindowQuery }) query: StatsWindowQuery) {
    return this.service.logins(query);
  }

  @Get('qr')
  @Roles('admin', 'auditor')
  @ApiOperation({
    summary: 'QR funnel over a time window: events per step, and median step times',
    description:
      'Medians per QR session: `scan` = created → scanned, `confirm` = scanned → confirmed, `exchange` = confirmed → consumed, ' +
      'in milliseconds; `null` when no session took that step in the window.',
  })
  @ApiOkResponse({
    schema: {
      example: {
        ...WINDOW,
        created: 1804,
        scanned: 1377,
        confirmed: 1301,
        consumed: 1290,
        cancelled: 52,
        expired: 431,
        medianMs: { scan: 6120, confirm: 2380, exchange: 310 },
      },
    },
  })
  @ApiErrors('validation.failed', 'auth.unauthenticated', 'auth.forbidden')
  qr(@Query({ schema: StatsWindowQuery }) query: StatsWindowQuery) {
    return this.service.qr(query);
  }
}
