import { Delete, Get, HttpCode, Param, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiQuery } from '@nestjs/swagger';
import { z } from 'zod';
import { Roles } from '../../auth/index.js';
import { ApiErrors, ParseIdPipe } from '../../common/index.js';

import { ActingAs, type Acting } from '../common/acting.js';
import { listQuery } from '../common/admin-list.js';
import { AdminIdentitiesService } from './admin-identities.service.js';
import { AdminController } from '../common/admin-route.js';
import { NoQuery } from '../common/admin-list.js';

const USER_ID = '0b6f2a1e-6c1d-4a57-9a53-0f1d6c1b2e3f';
const IDENTITY_ID = '7c4e2a10-9b3d-4f5e-a6b7-c8d9e0f1a2b3';

/** `GET /admin/users/{id}/identities`: the list contract, no filter of its own. */
const IdentitiesQuery = listQuery({});
type IdentitiesQuery = z.infer<typeof IdentitiesQuery>;

/** A user's provider identities (`/api/v1/admin/users/{id}/identities`): list, unlink. */
@AdminController('users/:id/identities')
export class AdminIdentitiesController {
  constructor(private readonly service: AdminIdentitiesService) {}

  @Get()
  @Roles('admin', 'auditor')
  @ApiOperation({ summary: 'A user’s provider identities, oldest link first' })
  @ApiParam({ name: 'id', example: USER_ID })
  @ApiQuery({ name: 'limit', required: false, example: 50, description: '1–200' })
  @ApiQuery({ name: 'cursor', required: false, description: '`nextCursor` of the previous page' })
  @ApiOkResponse({
    schema: {
      example: {
        items: [
          {
            id: IDENTITY_ID,
            provider: 'wechat',
            subject: 'o6_bmasdasdsad6_2sgVt7hMZOPfL',
            subjectKind: 'unionid',
            profile: { displayName: 'Li Lei', avatarUrl: 'https://thirdwx.qlogo.cn/mmopen/…/132' },
            linkedAt: '2026-11-26T08:00:00.000Z',
          },
        ],
        nextCursor: null,
      },
    },
  })
  @ApiErrors('validation.failed', 'not_found', 'auth.unauthenticated', 'auth.forbidden')
  list(@Param('id', ParseIdPipe) id: string, @Query({ schema: IdentitiesQuery }) query: IdentitiesQuery) {
    return this.service.list(id, query);
  }

  @Delete(':identityId')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Unlink one of the user’s identities',
    description:
      'Refused with 409 `identity.last_method` when it is the last way to sign in (no password and no other identity). Audited as `identity.unlinked`.',
  })
  @ApiParam({ name: 'id', example: USER_ID })
  @ApiParam({ name: 'identityId', example: IDENTITY_ID })
  @ApiNoContentResponse({ description: 'Unlinked' })
  @ApiErrors('not_found', 'identity.last_method', 'auth.unauthenticated', 'auth.forbidden')
  async unlink(
    @Query({ schema: NoQuery }) _query: object,
    @Param('id', ParseIdPipe) id: string,
    @Param('identityId', ParseIdPipe) identityId: string,
    @ActingAs() acting: Acting,
  ): Promise<void> {
    await this.service.unlink(acting, id, identityId);
  }
}
