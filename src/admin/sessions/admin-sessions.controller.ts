import { applyDecorators, Delete, Get, HttpCode, Param, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiQuery } from '@nestjs/swagger';
import { Roles } from '../../auth/index.js';
import { ApiErrors, ParseIdPipe } from '../../common/index.js';

import { ActingAs, type Acting } from '../common/acting.js';
import { RecentSignIn } from '../common/recent-sign-in.guard.js';
import { SessionsQuery, UserSessionsQuery } from './admin-sessions.schemas.js';
import { AdminSessionsService } from './admin-sessions.service.js';
import { AdminController } from '../common/admin-route.js';
import { NoQuery } from '../common/admin-list.js';

const USER_ID = '0b6f2a1e-6c1d-4a57-9a53-0f1d6c1b2e3f';
const SESSION_ID = '5d1c9e47-2f0b-4b8e-8d7a-3c2e1f0a9b8c';
const MOBILE_SESSION = {
  id: SESSION_ID,
  userId: USER_ID,
  kind: 'mobile',
  createdVia: 'password',
  device: { id: 'b3f1c2d4-device', name: 'Li Lei’s phone', platform: 'android' },
  ip: '203.0.113.24',
  userAgent: 'ScanGate/1.4 (Android 14)',
  location: 'Shanghai, CN',
  createdAt: '2026-11-26T08:00:00.000Z',
  lastSeenAt: '2026-11-26T09:12:31.000Z',
  revokedAt: null,
};
const WEB_SESSION = {
  ...MOBILE_SESSION,
  id: '9a7e3b21-4c5d-4e6f-8a9b-0c1d2e3f4a5b',
  kind: 'web',
  createdVia: 'qr',
  device: null,
  userAgent:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36',
  location: null,
};
const PAGE_EXAMPLE = { items: [WEB_SESSION, MOBILE_SESSION], nextCursor: 'WyJzZXNzaW9uczotY3JlYXRlZEF0Ii…' };
const ACTIVE_DOC = {
  name: 'active',
  required: false,
  enum: ['true', 'false'],
  description: 'Live sessions only (default), or `false` for every session, revoked and expired ones too',
};
/** The list contract's own query fields. */
const ApiPaging = () =>
  applyDecorators(
    ApiQuery({ name: 'limit', required: false, example: 50, description: '1–200' }),
    ApiQuery({ name: 'cursor', required: false, description: '`nextCursor` of the previous page' }),
  );

/**
 * Device sessions (`/api/v1/admin/…`): a user's and everyone's, newest first;
 * revoke one, revoke all (a recent sign-in needed). Revoked tokens are refused
 * on the next request and the user's open sockets are told.
 */
@AdminController('')
export class AdminSessionsController {
  constructor(private readonly service: AdminSessionsService) {}

  @Get('users/:id/sessions')
  @Roles('admin', 'auditor')
  @ApiOperation({
    summary: 'A user’s sessions, newest first (live ones unless `active=false`)',
    description: '`location` comes from the offline GeoIP databases when configured, else null.',
  })
  @ApiParam({ name: 'id', example: USER_ID })
  @ApiQuery(ACTIVE_DOC)
  @ApiPaging()
  @ApiOkResponse({ schema: { example: PAGE_EXAMPLE } })
  @ApiErrors('validation.failed', 'not_found', 'auth.unauthenticated', 'auth.forbidden')
  listForUser(@Param('id', ParseIdPipe) id: string, @Query({ schema: UserSessionsQuery }) query: UserSessionsQuery) {
    return this.service.listForUser(id, query);
  }

  @Delete('users/:id/sessions/:sessionId')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Revoke one of the user’s sessions',
    description:
      'Its access token is refused on the next request (every instance), its refresh token too, and its open sockets get `session.revoked`. A session already revoked: 204, nothing changes. Another user’s session: 404.',
  })
  @ApiParam({ name: 'id', example: USER_ID })
  @ApiParam({ name: 'sessionId', example: SESSION_ID })
  @ApiNoContentResponse({ description: 'Revoked (or already was)' })
  @ApiErrors('not_found', 'auth.unauthenticated', 'auth.forbidden')
  async revoke(
    @Query({ schema: NoQuery }) _query: object,
    @Param('id', ParseIdPipe) id: string,
    @Param('sessionId', ParseIdPipe) sessionId: string,
    @ActingAs() acting: Acting,
  ): Promise<void> {
    await this.service.revoke(acting, id, sessionId);
  }

  @Delete('users/:id/sessions')
  @HttpCode(204)
  @RecentSignIn()
  @ApiOperation({
    summary: 'Revoke every session of the user',
    description:
      'Every access token of the user is refused on the next request and its open sockets are told. Needs a sign-in no older than REAUTH_MAX_AGE_SECONDS, else 401 `auth.reauth_required` (POST /api/v1/auth/reauth).',
  })
  @ApiParam({ name: 'id', example: USER_ID })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiErrors('not_found', 'auth.reauth_required', 'auth.unauthenticated', 'auth.forbidden')
  async revokeAll(
    @Query({ schema: NoQuery }) _query: object,
    @Param('id', ParseIdPipe) id: string,
    @ActingAs() acting: Acting,
  ): Promise<void> {
    await this.service.revokeAll(acting, id);
  }

  @Get('sessions')
  @Roles('admin', 'auditor')
  @ApiOperation({ summary: 'Recent sessions of all users, newest first, filtered (live ones unless `active=false`)' })
  @ApiQuery({ name: 'userId', required: false, example: USER_ID })
  @ApiQuery({ name: 'kind', required: false, enum: ['mobile', 'web'] })
  @ApiQuery({
    name: 'createdVia',
    required: false,
    example: 'oauth:wechat',
    description: '`password`, `qr` or `oauth:<provider>`',
  })
  @ApiQuery(ACTIVE_DOC)
  @ApiPaging()
  @ApiOkResponse({ schema: { example: PAGE_EXAMPLE } })
  @ApiErrors('validation.failed', 'auth.unauthenticated', 'auth.forbidden')
  list(@Query({ schema: SessionsQuery }) query: SessionsQuery) {
    return this.service.list(query);
  }
}
