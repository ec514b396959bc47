import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { timingSafeEqual, createHash } from 'node:crypto';
import { Public, AuthError } from '../auth/index.js';

import { ApiErrors } from '../common/index.js';
import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { MetricsService } from './metrics.service.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * `GET /metrics` for Prometheus. With `METRICS_TOKEN` set, a scrape must carry
 * `Authorization: Bearer <token>` (compared in constant time); without it the
 * route is public, which production warns about at start.
 */
@Public()
@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  private readonly token?: Buffer;

  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) app: AppConfig,
  ) {
    this.token = app.metricsToken === undefined ? undefined : digest(app.metricsToken);
  }

  @Get()
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Prometheus metrics (text exposition format)',
    description: 'With `METRICS_TOKEN` set: `Authorization: Bearer <METRICS_TOKEN>`.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Process metrics and `http_request_duration_seconds` by route' })
  @ApiErrors('auth.unauthenticated')
  async scrape(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (this.token && !this.authorized(req.get('authorization')))
      throw new AuthError('auth.unauthenticated', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>.');
    const { contentType, body } = await this.metrics.render();
    res.setHeader('Content-Type', contentType);
    res.send(body);
  }

  private authorized(header: string | undefined): boolean {
    const presented = header?.startsWith('Bearer ') ? header.slice(7) : '';
    return timingSafeEqual(digest(presented), this.token!);
  }
}
