import { Body, Controller, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Client, CurrentUser, Roles } from '../../auth/auth.decorators.js';
import type { Principal } from '../../auth/auth.principal.js';
import { identityView, userView } from '../../auth/auth.views.js';
import type { ClientContext } from '../../auth/sessions/sessions.service.js';
import { ApiErrors, ApiZodBody } from '../../common/http/api-docs.js';
import { ParseIdPipe } from '../../common/http/parse-id.pipe.js';
import { CreateUserBody, PatchUserBody } from './admin-users.schemas.js';
import { AdminUsersService } from './admin-users.service.js';

const USER_EXAMPLE = {
  id: '0b6f…',
  login: 'lilei',
  displayName: 'Li Lei',
  avatarUrl: null,
  status: 'active',
  roles: ['user'],
  createdAt: '2026-11-26T08:00:00.000Z',
  updatedAt: '2026-11-26T08:00:00.000Z',
};

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('api/v1/admin/users')
export class AdminUsersController {
  constructor(private readonly service: AdminUsersService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a user (without a password it can sign in only through a provider)' })
  @ApiZodBody(CreateUserBody, { login: 'lilei', password: 'a long passphrase', displayName: 'Li Lei', roles: ['user'] })
  @ApiCreatedResponse({ schema: { example: USER_EXAMPLE } })
  @ApiErrors('validation.failed', 'conflict', 'auth.unauthenticated', 'auth.forbidden')
  async create(@Body({ schema: CreateUserBody }) body: CreateUserBody, @CurrentUser() actor: Principal, @Client() client: ClientContext) {
    return userView(await this.service.create(actor, body, client));
  }

  @Get(':id')
  @Roles('admin', 'auditor')
  @ApiOperation({ summary: 'One user, with identities and the count of active sessions' })
  @ApiOkResponse({ schema: { example: { ...USER_EXAMPLE, identities: [], activeSessions: 2 } } })
  @ApiErrors('not_found', 'auth.unauthenticated', 'auth.forbidden')
  async get(@Param('id', ParseIdPipe) id: string) {
    const { user, activeSessions, identities } = await this.service.get(id);
    return { ...userView(user), identities: identities.map(identityView), activeSessions };
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Disable or enable a user, or set a new password (both revoke every session at once)' })
  @ApiZodBody(PatchUserBody, { status: 'disabled' })
  @ApiOkResponse({ schema: { example: { ...USER_EXAMPLE, status: 'disabled' } } })
  @ApiErrors('validation.failed', 'not_found', 'auth.unauthenticated', 'auth.forbidden')
  async patch(
    @Param('id', ParseIdPipe) id: string,
    @Body({ schema: PatchUserBody }) body: PatchUserBody,
    @CurrentUser() actor: Principal,
    @Client() client: ClientContext,
  ) {
    return userView(await this.service.patch(actor, id, body, client));
  }
}
