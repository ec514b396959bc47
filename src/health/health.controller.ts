import { Controller, Get, HttpCode, ServiceUnavailableException, type BeforeApplicationShutdown } from '@nestjs/common';
import { Public } from '../auth/index.js';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { NotReadyError } from './health.errors.js';
import { StoreHealthIndicator } from '../store/index.js';

const CHECK_TIMEOUT_MS = 1_000;

/**
 * Probes for orchestrators and load balancers. `live`: the process answers.
 * `ready`: Postgres and the store (Redis) answer within a second, and the
 * instance is not shutting down; otherwise 503 with the error envelope,
 * whose details name what is down.
 */
@Public()
@ApiTags('operations')
@Controller('health')
export class HealthController implements BeforeApplicationShutdown {
  private shuttingDown = false;

  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly store: StoreHealthIndicator,
  ) {}

  @Get('live')
  @HttpCode(200)
  @ApiOperation({ summary: 'Liveness: the process is up' })
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: Postgres and the store answer' })
  @ApiOkResponse({ schema: { example: { status: 'ok', checks: { database: 'up', store: 'up' } } } })
  @ApiServiceUnavailableResponse({
    description: 'A dependency is down or the instance is shutting down',
    schema: {
      example: {
        code: 'store.unavailable',
        message: 'Not ready: store is down.',
        requestId: '5f0c…',
        details: [{ path: 'store', message: 'down' }],
      },
    },
  })
  async ready(): Promise<{ status: 'ok'; checks: Record<string, 'up'> }> {
    if (this.shuttingDown) {
      throw NotReadyError.shuttingDown();
    }
    try {
      await this.health.check([
        () => this.database.pingCheck('database').withTimeout(CHECK_TIMEOUT_MS),
        () =>
          this.indicators
            .check('store')
            .attempt(async () => {
              const health = await this.store.check();
              if (!health.up) throw new Error(health.error);
              return { mode: health.mode };
            })
            .withTimeout(CHECK_TIMEOUT_MS),
      ]);
      return { status: 'ok', checks: { database: 'up', store: 'up' } };
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const failed = Object.keys((error.getResponse() as { error?: Record<string, unknown> }).error ?? {});
      throw NotReadyError.down(failed);
    }
  }

  beforeApplicationShutdown(): void {
    // Load balancers stop sending new requests while in-flight ones finish.
    this.shuttingDown = true;
  }
}
