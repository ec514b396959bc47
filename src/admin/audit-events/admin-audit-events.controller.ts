import { Get, Logger, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiQuery } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Roles } from '../../auth/index.js';
import { ApiErrors } from '../../common/index.js';
import { requestIdOf } from '../../logging/index.js';
import { AuditEventsQuery } from './admin-audit-events.schemas.js';
import { AdminAuditEventsService } from './admin-audit-events.service.js';
import { NDJSON, sendNdjson } from './ndjson.response.js';
import { AdminController } from '../common/admin-route.js';

const EVENT_EXAMPLE = {
  id: '5f0c2a9e-8d1b-4c57-9a53-0e1f4b6d2c11',
  type: 'auth.login_succeeded',
  at: '2026-11-27T08:15:02.417Z',
  actorId: '0b6f3c1e-2d4a-4f6b-8e9c-1a2b3c4d5e6f',
  userId: '0b6f3c1e-2d4a-4f6b-8e9c-1a2b3c4d5e6f',
  sessionId: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a',
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)',
  detail: { method: 'qr', kind: 'web' },
};

@AdminController('audit-events')
export class AdminAuditEventsController {
  private readonly logger = new Logger('AdminAuditEvents');

  constructor(private readonly service: AdminAuditEventsService) {}

  @Get()
  @Roles('admin', 'auditor')
  @ApiOperation({
    summary: 'Audit events, newest first; with Accept: application/x-ndjson, the whole filtered set as a stream',
    description:
      'Keyset pages on (at, id): `nextCursor` continues after the last item, unaffected by events written meanwhile. ' +
      '`userId` matches the user acted upon or the actor; `from` is inclusive, `to` exclusive. ' +
      'With `Accept: application/x-ndjson` every matching event is streamed, one JSON object per line, and `limit`/`cursor` are ignored.',
  })
  // The filters are documented from the zod schema; the list fields get their NDJSON caveat here.
  @ApiQuery({
    name: 'limit',
    required: false,
    description: '1–200, default 50 (ignored by the NDJSON export)',
    example: 50,
  })
  @ApiQuery({
    name: 'cursor',
    required: false,
    description: '`nextCursor` of the previous page (ignored by the NDJSON export)',
  })
  @ApiProduces('application/json', NDJSON)
  @ApiOkResponse({
    description: 'A page (JSON), or the whole filtered set (NDJSON)',
    content: {
      'application/json': {
        example: {
          items: [EVENT_EXAMPLE],
          nextCursor: 'WyItYXQiLCIyMDI2LTExLTI3VDA4OjE1OjAyLjQxNzAwMFoiLCI1ZjBjMmE5ZSJd',
        },
      },
      [NDJSON]: {
        schema: { type: 'string' },
        example: `${JSON.stringify(EVENT_EXAMPLE)}\n${JSON.stringify({ ...EVENT_EXAMPLE, id: '…', type: 'qr.consumed' })}\n`,
      },
    },
  })
  @ApiErrors('validation.failed', 'auth.unauthenticated', 'auth.forbidden')
  async list(
    @Query({ schema: AuditEventsQuery }) query: AuditEventsQuery,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    if (req.accepts(['application/json', NDJSON]) === NDJSON) {
      await sendNdjson(res, this.service.export(query), (error) =>
        this.logger.error(
          { requestId: requestIdOf(req), error: (error as Error)?.message },
          'Audit export cut short by a failure',
        ),
      );
      return;
    }
    res.json(await this.service.list(query));
  }
}
