import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ApiZodBody, ParseIdPipe } from '../common/index.js';

import { RateLimitGuard } from '../rate-limit/index.js';
import { UsersService } from '../users/index.js';
import { Client, CurrentUser } from './auth.decorators.js';
import { AuthError } from './auth.errors.js';
import type { Principal } from './auth.principal.js';
import { AuthService } from './auth.service.js';
import { identityView, sessionView, userView } from './auth.views.js';
import { ChangePasswordBody } from './dto/auth.schemas.js';
import { PASSWORD_CHECK_RATE_LIMITS } from './guards/login-rate-limits.js';
import type { ClientContext } from './client-context.js';
import { SessionsService } from './sessions/sessions.service.js';

@ApiTags('me')
@ApiBearerAuth()
@Controller('api/v1/me')
export class MeController {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly auth: AuthService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The signed-in user' })
  @ApiOkResponse({
    schema: {
      example: { id: '…', login: 'lilei', displayName: 'Li Lei', avatarUrl: null, status: 'active', roles: ['user'] },
    },
  })
  @ApiErrors('auth.unauthenticated')
  async me(@CurrentUser() principal: Principal) {
    const user = await this.users.find(principal.userId);
    if (!user) throw new AuthError('auth.unauthenticated');
    return userView(user);
  }

  @Post('password')
  @HttpCode(200)
  @UseGuards(RateLimitGuard(PASSWORD_CHECK_RATE_LIMITS))
  @ApiOperation({
    summary: 'Change the password; every other session is signed out',
    description:
      'Answers the identities linked since the previous password: offer to remove them (`DELETE /api/v1/me/identities/{id}`), ' +
      'since whoever had the account may have added a way back in.',
  })
  @ApiZodBody(ChangePasswordBody, { currentPassword: 'old one…', newPassword: 'a new long passphrase' })
  @ApiOkResponse({
    schema: {
      example: {
        revokedSessions: 2,
        identitiesLinkedSinceLastPassword: [
          { id: '…', provider: 'wechat', subjectKind: 'unionid', linkedAt: '2026-12-01T08:00:00.000Z' },
        ],
      },
    },
  })
  @ApiErrors('validation.failed', 'auth.unauthenticated', 'rate_limited')
  async changePassword(
    @Body({ schema: ChangePasswordBody }) body: { currentPassword: string; newPassword: string },
    @CurrentUser() principal: Principal,
    @Client() client: ClientContext,
  ) {
    const changed = await this.auth.changePassword(principal, body.currentPassword, body.newPassword, client);
    return {
      revokedSessions: changed.revokedSessions,
      identitiesLinkedSinceLastPassword: changed.identitiesLinkedSinceLastPassword.map(identityView),
    };
  }

  @Get('sessions')
  @ApiOperation({ summary: 'My active sessions (devices and browsers); `current` marks this one' })
  @ApiOkResponse({
    schema: { example: { items: [{ id: '…', kind: 'mobile', createdVia: 'password', current: true }] } },
  })
  @ApiErrors('auth.unauthenticated')
  async listSessions(@CurrentUser() principal: Principal) {
    const sessions = await this.sessions.listActive(principal.userId);
    return { items: sessions.map((s) => sessionView(s, principal.sessionId)) };
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Sign out one of my sessions ("not me")' })
  @ApiNoContentResponse({ description: 'Revoked: its tokens stop working on the next request' })
  @ApiErrors('auth.unauthenticated', 'not_found')
  async revokeSession(
    @Param('id', ParseIdPipe) id: string,
    @CurrentUser() principal: Principal,
    @Client() client: ClientContext,
  ) {
    await this.sessions.revokeOwn(principal.userId, id, 'revoked_by_user', client);
  }

  @Get('identities')
  @ApiOperation({ summary: 'My linked third-party identities' })
  @ApiOkResponse({ schema: { example: { items: [{ id: '…', provider: 'wechat', subjectKind: 'unionid' }] } } })
  @ApiErrors('auth.unauthenticated')
  async listIdentities(@CurrentUser() principal: Principal) {
    return { items: (await this.users.listIdentities(principal.userId)).map(identityView) };
  }

  @Delete('identities/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Unlink an identity (refused when it is the last way to sign in)' })
  @ApiNoContentResponse({ description: 'Unlinked' })
  @ApiErrors('auth.unauthenticated', 'not_found', 'identity.last_method')
  async unlinkIdentity(
    @Param('id', ParseIdPipe) id: string,
    @CurrentUser() principal: Principal,
    @Client() client: ClientContext,
  ) {
    await this.auth.unlinkIdentity(principal, id, client);
  }
}
