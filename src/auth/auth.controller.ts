import { Body, Controller, Headers, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiErrors, ApiZodBody } from '../common/index.js';
import { Client, CurrentUser, Public } from './auth.decorators.js';
import type { Principal } from './auth.principal.js';
import { AuthError } from './auth.errors.js';
import { AuthService, type SignedIn } from './auth.service.js';
import { LoginBody, ReauthBody, RefreshBody } from './dto/auth.schemas.js';
import { RateLimitGuard } from '../rate-limit/index.js';
import { LOGIN_RATE_LIMITS, PASSWORD_CHECK_RATE_LIMITS } from './guards/login-rate-limits.js';
import { RefreshCookie } from './refresh-cookie.js';
import { WebSignIn } from './web-sign-in.js';
import type { ClientContext } from './client-context.js';

const TOKENS_EXAMPLE = {
  accessToken: 'eyJhbGciOiJFUzI1NiIs…',
  expiresIn: 600,
  refreshToken: 'q3Jd…',
  user: { id: '…', displayName: 'Li Lei' },
};

@ApiTags('auth')
@Controller('api/v1/auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly cookie: RefreshCookie,
    private readonly web: WebSignIn,
  ) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @UseGuards(RateLimitGuard(LOGIN_RATE_LIMITS))
  @ApiOperation({
    summary: 'Sign in with login and password',
    description:
      'With `device`: a mobile device session (one per device id; tokens in the body). Without: a web session ' +
      '(the refresh token only in the HttpOnly cookie, and a foreign `Origin` is refused). Rate-limited per client IP, ' +
      'per login and IP, and per login (a known device, signing with the key of its active session, is exempt from the last).',
  })
  @ApiHeader({
    name: 'X-Device-Signature',
    required: false,
    description:
      'A known device: base64url ES256 (P1363) signature of `scangate:login:<device.id>:<login>` by the key of its active session',
  })
  @ApiZodBody(LoginBody, {
    login: 'lilei',
    password: 'correct horse battery',
    device: { id: 'iphone-4f2a91c0', name: 'Li Lei’s iPhone', platform: 'ios' },
  })
  @ApiOkResponse({ schema: { example: TOKENS_EXAMPLE } })
  @ApiErrors(
    'validation.failed',
    'auth.invalid_credentials',
    'auth.account_disabled',
    'auth.forbidden',
    'rate_limited',
    'store.unavailable',
  )
  async login(
    @Body({ schema: LoginBody }) body: LoginBody,
    @Headers('x-device-signature') deviceSignature: string | undefined,
    @Client() client: ClientContext,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    if (!body.device) this.cookie.assertAllowedOrigin(req); // a web sign-in sets the cookie
    const signedIn = await this.auth.login(body.login, body.password, client, body.device, deviceSignature);
    return this.answer(signedIn, res);
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({
    summary: 'New access and refresh tokens',
    description:
      'Mobile: `{ refreshToken }` in the body. Web: the refresh cookie, an empty body and a same-origin `Origin`. ' +
      'The old refresh token dies; presenting it again revokes the whole session (`auth.refresh_reused`).',
  })
  @ApiZodBody(RefreshBody, { refreshToken: 'q3Jd…' })
  @ApiOkResponse({ schema: { example: TOKENS_EXAMPLE } })
  @ApiErrors('validation.failed', 'auth.unauthenticated', 'auth.refresh_reused', 'auth.forbidden', 'store.unavailable')
  async refresh(
    @Body({ schema: RefreshBody }) body: { refreshToken?: string },
    @Client() client: ClientContext,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    if (body.refreshToken) return this.answer(await this.auth.refresh(body.refreshToken, 'mobile', client), res);
    this.cookie.assertAllowedOrigin(req, { required: true });
    const token = this.cookie.read(req);
    if (!token) throw new AuthError('auth.unauthenticated', 'No refresh cookie: sign in again.');
    try {
      return this.answer(await this.auth.refresh(token, 'web', client), res);
    } catch (error) {
      this.cookie.clear(res);
      throw error;
    }
  }

  @Post('logout')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Sign out this session (its access and refresh tokens stop working at once)' })
  @ApiNoContentResponse({ description: 'Signed out; the refresh cookie is cleared' })
  @ApiErrors('auth.unauthenticated', 'auth.forbidden')
  async logout(
    @CurrentUser() principal: Principal,
    @Client() client: ClientContext,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    this.cookie.assertAllowedOrigin(req);
    await this.auth.logout(principal, client);
    this.cookie.clear(res);
  }

  @Post('reauth')
  @HttpCode(200)
  @UseGuards(RateLimitGuard(PASSWORD_CHECK_RATE_LIMITS))
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Confirm the password again, for actions that need a recent sign-in' })
  @ApiZodBody(ReauthBody, { password: 'correct horse battery' })
  @ApiOkResponse({ schema: { example: { reauthenticatedAt: '2026-11-26T21:00:00.000Z' } } })
  @ApiErrors('validation.failed', 'auth.unauthenticated', 'auth.invalid_credentials', 'rate_limited')
  async reauth(
    @Body({ schema: ReauthBody }) body: { password: string },
    @CurrentUser() principal: Principal,
    @Client() client: ClientContext,
  ) {
    return { reauthenticatedAt: (await this.auth.reauth(principal, body.password, client)).toISOString() };
  }

  /** Mobile sessions get both tokens in the body; web sessions get the refresh token only as the cookie. */
  private answer(signedIn: SignedIn, res: Response) {
    const user = {
      id: signedIn.user.id,
      login: signedIn.user.login,
      displayName: signedIn.user.displayName,
      avatarUrl: signedIn.user.avatarUrl,
      roles: signedIn.user.roles,
    };
    if (signedIn.session.kind === 'mobile')
      return {
        accessToken: signedIn.accessToken,
        expiresIn: signedIn.expiresIn,
        sessionId: signedIn.session.id,
        user,
        refreshToken: signedIn.refreshToken,
      };
    return { ...this.web.respond(res, signedIn), sessionId: signedIn.session.id, user };
  }
}
