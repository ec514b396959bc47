import {
  Catch,
  Controller,
  Get,
  Inject,
  Injectable,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseFilters,
  UseGuards,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import {
  ApiBearerAuth,
  ApiFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentUser, Public, type Principal, WebSignIn } from '../auth/index.js';

import { AllExceptionsFilter, AppError, ApiErrors, readCookie } from '../common/index.js';

import { AUTH_CONFIG, type AuthConfig } from '../config/index.js';

import { OAUTH_BROWSER_COOKIE, setBrowserCookie } from './oauth-cookies.js';
import { OAuthRegistry, type ProviderListing } from './oauth.registry.js';
import { OAuthService, type OAuthOutcome } from './oauth.service.js';
import type { OAuthMode } from './oauth-state.store.js';

/** `Accept` prefers JSON to HTML: answer the envelope instead of redirecting to the login page. */
function prefersJson(req: Request): boolean {
  return req.accepts(['text/html', 'application/json']) === 'application/json';
}

/**
 * A failed callback: `302 /login?error=<code>` for a browser, or the error
 * envelope when JSON is preferred (the one mapping of AllExceptionsFilter).
 */
@Catch()
@Injectable()
export class OAuthCallbackFilter implements ExceptionFilter {
  constructor(private readonly errors: AllExceptionsFilter) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    if (prefersJson(req)) return this.errors.respond(exception, req, res);
    const code = exception instanceof AppError ? exception.code : 'internal';
    if (code === 'internal') return this.errors.respond(exception, req, res);
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(302, `/login?error=${encodeURIComponent(code)}`);
  }
}

/**
 * Third-party QR login (PROTOCOL.md § "Third-party QR login"): the providers,
 * the start (302 to the provider's QR page, or `{ url }`), the callback (one
 * Passport strategy for every provider), and linking a provider to the
 * signed-in user. The browser key cookie binds each state to its browser; no
 * token ever appears in a URL: a login ends with the refresh cookie and a 302.
 */
@ApiTags('oauth')
@Controller()
export class OAuthController {
  constructor(
    private readonly oauth: OAuthService,
    private readonly registry: OAuthRegistry,
    private readonly web: WebSignIn,
    @Inject(AUTH_CONFIG) private readonly auth: AuthConfig,
  ) {}

  @Public()
  @Get('api/v1/oauth/providers')
  @ApiOperation({
    summary: 'List the third-party providers',
    description: 'Names in the language of `Accept-Language` (zh-CN or en).',
  })
  @ApiOkResponse({
    schema: {
      example: [
        { id: 'wechat', name: 'WeChat', names: { en: 'WeChat', 'zh-CN': '微信' }, enabled: true, sandbox: false },
      ],
    },
  })
  providers(@Req() req: Request): ProviderListing[] {
    const language = req.acceptsLanguages('en', 'zh-CN', 'zh'); // `en` without a header or a match
    return this.registry.list(language === 'zh-CN' || language === 'zh' ? 'zh-CN' : 'en');
  }

  @Public()
  @Get('api/v1/oauth/:provider/authorize')
  @ApiOperation({
    summary: 'Start a third-party login',
    description: '302 to the provider’s QR page; `?format=json` answers `{ "url" }` instead.',
  })
  @ApiQuery({
    name: 'returnTo',
    required: false,
    description: 'A path on this site or a URL on an allowed origin (anything else: `/`).',
  })
  @ApiQuery({ name: 'format', required: false, enum: ['json'] })
  @ApiFoundResponse({ description: 'To the provider' })
  @ApiOkResponse({ schema: { example: { url: 'https://open.weixin.qq.com/connect/qrconnect?appid=…' } } })
  @ApiErrors('oauth.provider_disabled', 'store.unavailable')
  async authorize(
    @Param('provider') provider: string,
    @Query() query: Record<string, unknown>,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const url = await this.begin(provider, 'login', null, query.returnTo, req, res);
    if (query.format === 'json') res.json({ url });
    else res.redirect(302, url);
  }

  @Public()
  @UseGuards(AuthGuard('oauth'))
  @UseFilters(OAuthCallbackFilter)
  @Get('api/v1/oauth/:provider/callback')
  @ApiOperation({
    summary: 'Come back from the provider',
    description:
      'Checks the state (one-time, this browser’s), exchanges the code server-side, signs in (refresh cookie) or links, then 302 to `returnTo`. Failures: 302 to `/login?error=<code>`, or the envelope when JSON is preferred.',
  })
  // The strategy reads `provider` from the request, not through @Param: declare it for the document.
  @ApiParam({ name: 'provider', type: String })
  @ApiFoundResponse({ description: 'To `returnTo` (success) or `/login?error=<code>`' })
  @ApiErrors(
    'oauth.provider_disabled',
    'oauth.state_invalid',
    'oauth.code_invalid',
    'oauth.upstream',
    'oauth.identity_conflict',
    'auth.account_disabled',
  )
  callback(@Req() req: Request & { user: OAuthOutcome }, @Res() res: Response): void {
    const outcome = req.user;
    if ('signedIn' in outcome) this.web.respond(res, outcome.signedIn);
    res.redirect(302, outcome.start.returnTo);
  }

  @ApiBearerAuth()
  @Post('api/v1/me/identities/:provider/authorize')
  @ApiOperation({
    summary: 'Start linking a provider to me',
    description:
      'Needs a fresh credential: a password confirmed (sign-in or `POST /api/v1/auth/reauth`) within `REAUTH_MAX_AGE_SECONDS`, ' +
      'checked here and again at the callback; a session made by QR or a provider alone is not fresh. Answers `{ "url" }`: ' +
      'open it in this browser; the callback adds the identity, tells the user’s phones (`identity.linked` on `/me`) and goes to `returnTo`.',
  })
  @ApiQuery({ name: 'returnTo', required: false })
  @ApiOkResponse({ schema: { example: { url: 'https://open.weixin.qq.com/connect/qrconnect?appid=…' } } })
  @ApiErrors('auth.unauthenticated', 'auth.reauth_required', 'oauth.provider_disabled', 'store.unavailable')
  async link(
    @CurrentUser() principal: Principal,
    @Param('provider') provider: string,
    @Query('returnTo') returnTo: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    res.status(200).json({ url: await this.begin(provider, 'link', principal, returnTo, req, res) });
  }

  @ApiBearerAuth()
  @Post('api/v1/auth/reauth/:provider')
  @ApiOperation({
    summary: 'Re-prove this session through a linked provider (accounts without a password)',
    description:
      'Answers `{ "url" }`: open it in this browser and sign in there with an account already linked to you; the callback ' +
      'marks this session freshly authenticated and goes to `returnTo`. An account with a password confirms it instead (403).',
  })
  @ApiQuery({ name: 'returnTo', required: false })
  @ApiOkResponse({ schema: { example: { url: 'https://open.weixin.qq.com/connect/qrconnect?appid=…' } } })
  @ApiErrors('auth.unauthenticated', 'auth.forbidden', 'oauth.provider_disabled', 'store.unavailable')
  async reauth(
    @CurrentUser() principal: Principal,
    @Param('provider') provider: string,
    @Query('returnTo') returnTo: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    res.status(200).json({ url: await this.begin(provider, 'reauth', principal, returnTo, req, res) });
  }

  private begin(
    provider: string,
    mode: OAuthMode,
    principal: Principal | null,
    returnTo: unknown,
    req: Request,
    res: Response,
  ): Promise<string> {
    const browserKey = this.oauth.browserKey(readCookie(req, OAUTH_BROWSER_COOKIE));
    setBrowserCookie(res, browserKey, this.auth.secureCookies);
    const caller = principal && { userId: principal.userId, sessionId: principal.sessionId };
    return this.oauth.start(provider, mode, caller, returnTo, browserKey);
  }
}
