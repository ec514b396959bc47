import { Body, Delete, Get, Headers, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles, identityView, userView } from '../../auth/index.js';

import { ApiErrors, ApiZodBody, ParseIdPipe } from '../../common/index.js';

import { ActingAs, type Acting } from '../common/acting.js';
import { AdminController } from '../common/admin-route.js';
import { CreateUserBody, DeleteUserQuery, PatchUserBody, UserListQuery } from './admin-users.schemas.js';
import { AdminUsersService, etagOf } from './admin-users.service.js';
import { NoQuery } from '../common/admin-list.js';

const USER_EXAMPLE = {
  id: '0b6f2a1e-6c1d-4a57-9a53-0f1d6c1b2e3f',
  login: 'lilei',
  displayName: 'Li Lei',
  avatarUrl: null,
  status: 'active',
  roles: ['user'],
  createdAt: '2026-11-26T08:00:00.000Z',
  updatedAt: '2026-11-26T08:00:00.000Z',
};
const REAUTH =
  'Needs a sign-in no older than REAUTH_MAX_AGE_SECONDS, else 401 `auth.reauth_required` (POST /api/v1/auth/reauth).';

@AdminController('users')
export class AdminUsersController {
  constructor(private readonly service: AdminUsersService) {}

  @Get()
  @Roles('admin', 'auditor')
  @ApiOperation({
    summary: 'Search and filter users (cursor pages)',
    description:
      '`q`: case-insensitive substring of the login, display name or an identity subject. Newest first unless `sort` says otherwise.',
  })
  @ApiQuery({ name: 'q', required: false, example: 'lei' })
  @ApiQuery({ name: 'status', required: false, enum: ['active', 'disabled'] })
  @ApiQuery({ name: 'role', required: false, enum: ['user', 'admin', 'auditor'] })
  @ApiQuery({ name: 'provider', required: false, example: 'wechat' })
  @ApiQuery({ name: 'createdFrom', required: false, example: '2026-11-01T00:00:00Z' })
  @ApiQuery({ name: 'createdTo', required: false, example: '2026-12-01T00:00:00Z' })
  @ApiQuery({ name: 'sort', required: false, enum: ['createdAt', '-createdAt', 'login', '-login'] })
  @ApiQuery({ name: 'limit', required: false, example: 50 })
  @ApiQuery({ name: 'cursor', required: false })
  @ApiOkResponse({ schema: { example: { items: [USER_EXAMPLE], nextCursor: 'WyItY3JlYXRlZEF0Ii…' } } })
  @ApiErrors('validation.failed', 'auth.unauthenticated', 'auth.forbidden')
  list(@Query({ schema: UserListQuery }) query: UserListQuery) {
    return this.service.list(query);
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a user (without a password it can sign in only through a provider)' })
  @ApiZodBody(CreateUserBody, { login: 'lilei', password: 'a long passphrase', displayName: 'Li Lei', roles: ['user'] })
  @ApiCreatedResponse({ schema: { example: USER_EXAMPLE } })
  @ApiErrors('validation.failed', 'conflict', 'auth.unauthenticated', 'auth.forbidden')
  async create(
    @Query({ schema: NoQuery }) _query: object,
    @Body({ schema: CreateUserBody }) body: CreateUserBody,
    @ActingAs() acting: Acting,
    @Res({ passthrough: true }) res: Response,
  ) {
    const row = await this.service.create(acting, body);
    res.setHeader('ETag', etagOf(row));
    return userView(row.user);
  }

  @Get(':id')
  @Roles('admin', 'auditor')
  @ApiOperation({
    summary: 'One user, with identities and the count of active sessions; `ETag` for a later `If-Match`',
    description:
      'The `ETag` is the version of the user fields (not of the identities or the session count, which change on their own).',
  })
  @ApiOkResponse({ schema: { example: { ...USER_EXAMPLE, identities: [], activeSessions: 2 } } })
  @ApiErrors('not_found', 'auth.unauthenticated', 'auth.forbidden')
  async get(
    @Query({ schema: NoQuery }) _query: object,
    @Param('id', ParseIdPipe) id: string,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { row, activeSessions, identities } = await this.service.get(id);
    res.setHeader('ETag', etagOf(row));
    return { ...userView(row.user), identities: identities.map(identityView), activeSessions };
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change profile, roles, status or password',
    description:
      'With `If-Match` (the `ETag` of a GET), a user changed meanwhile is 412 `precondition_failed` and nothing changes; without it the last write wins. ' +
      'Disabling, a new password or other roles revoke every session at once (open sockets are told). Roles, password and disabling: ' +
      REAUTH,
  })
  @ApiHeader({ name: 'If-Match', required: false, example: '"MjAyNi0xMS0yNiAwODowMDowMC4xMjM0NTYrMDA"' })
  @ApiZodBody(PatchUserBody, { status: 'disabled' })
  @ApiOkResponse({ schema: { example: { ...USER_EXAMPLE, status: 'disabled' } } })
  @ApiErrors(
    'validation.failed',
    'not_found',
    'precondition_failed',
    'auth.reauth_required',
    'auth.unauthenticated',
    'auth.forbidden',
  )
  async patch(
    @Query({ schema: NoQuery }) _query: object,
    @Param('id', ParseIdPipe) id: string,
    @Body({ schema: PatchUserBody }) body: PatchUserBody,
    @Headers('if-match') ifMatch: string | undefined,
    @ActingAs() acting: Acting,
    @Res({ passthrough: true }) res: Response,
  ) {
    const row = await this.service.patch(acting, id, body, ifMatch);
    res.setHeader('ETag', etagOf(row));
    return userView(row.user);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary:
      'Delete a user: soft by default (sessions revoked, identities removed, login kept reserved); `?hard=true` removes the row',
    description: REAUTH,
  })
  @ApiQuery({ name: 'hard', required: false, enum: ['true', 'false'] })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors('validation.failed', 'not_found', 'auth.reauth_required', 'auth.unauthenticated', 'auth.forbidden')
  async delete(
    @Param('id', ParseIdPipe) id: string,
    @Query({ schema: DeleteUserQuery }) query: { hard: boolean },
    @ActingAs() acting: Acting,
  ): Promise<void> {
    await this.service.delete(acting, id, query.hard);
  }
}
