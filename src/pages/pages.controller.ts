import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/index.js';
import { NotFoundError, safeReturnTo } from '../common/index.js';

import { APP_CONFIG, QR_CONFIG, type AppConfig, type QrConfig } from '../config/index.js';
import { OAuthRegistry } from '../oauth/index.js';
import { QR_ID } from '../qr-login/index.js';
import { MESSAGES, type PageLanguage } from './i18n/messages.js';
import { pageLanguage, withLanguage } from './page-language.js';
import { layout } from './views/layout.view.js';
import { loginView } from './views/login.view.js';
import { phoneView } from './views/phone.view.js';
import { WebAssets } from './web-assets.js';

/** An error code a third-party callback may send back to /login (anything else shows the generic text). */
const ERROR_PARAM = /^[a-z_]+(\.[a-z_]+)?$/;

/**
 * The pages people use, served by the server itself: `/login`, the phone's
 * `/m/qr/{id}`, the SDK at `/sdk/scangate.js` and the pages' scripts and styles.
 */
@ApiExcludeController()
@Controller()
export class PagesController {
  /** Strict: own scripts and styles only, nothing from another host, never framed. */
  private readonly csp: string;

  constructor(
    @Inject(APP_CONFIG) private readonly app: AppConfig,
    @Inject(QR_CONFIG) private readonly qr: QrConfig,
    private readonly providers: OAuthRegistry,
    private readonly assets: WebAssets,
  ) {
    this.csp = [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self'",
      "connect-src 'self'",
      "form-action 'self'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
      ...(app.publicUrl.startsWith('https://') ? ['upgrade-insecure-requests'] : []),
    ].join('; ');
  }

  @Public()
  @Get()
  home(@Res() res: Response): void {
    res.redirect(302, '/login');
  }

  @Public()
  @Get('login')
  login(@Req() req: Request, @Res() res: Response): void {
    const language = pageLanguage(req, res, this.secureCookies);
    const messages = MESSAGES[language];
    const returnTo = safeReturnTo(req.query.returnTo, this.app);
    const error =
      typeof req.query.error === 'string' && req.query.error !== ''
        ? ERROR_PARAM.test(req.query.error)
          ? req.query.error
          : 'unknown'
        : null;
    const body = loginView({
      messages,
      returnTo,
      error,
      tryHere: !this.app.isProduction,
      providers: this.providers
        .list(language)
        .filter((p) => p.enabled)
        .map((p) => ({ id: p.id, name: p.name, sandbox: p.sandbox })),
    });
    this.sendPage(
      res,
      200,
      layout({
        language,
        messages,
        title: messages['page.login.title'],
        script: 'login',
        data: { 'return-to': returnTo },
        languageLinks: this.links(req),
        body,
      }),
    );
  }

  @Public()
  @Get('m/qr/:id')
  phone(@Param('id') id: string, @Req() req: Request, @Res() res: Response): void {
    const language = pageLanguage(req, res, this.secureCookies);
    const messages = MESSAGES[language];
    const valid = QR_ID.test(id);
    const data = {
      'qr-id': valid ? id : null,
      'qr-error': valid ? null : 'qr.not_found',
      'device-key-required': String(!this.qr.allowKeylessDevices),
    };
    this.sendPage(
      res,
      valid ? 200 : 404,
      layout({
        language,
        messages,
        title: messages['page.phone.title'],
        script: 'phone',
        data,
        languageLinks: this.links(req),
        body: phoneView(messages),
      }),
    );
  }

  @Public()
  @Get('sdk/scangate.js')
  sdk(@Req() req: Request, @Res() res: Response): void {
    // Integrators load it from their own origin: a module script is fetched with CORS.
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    this.sendAsset('sdk/scangate.js', req, res);
  }

  @Public()
  @Get('assets/:file')
  asset(@Param('file') file: string, @Req() req: Request, @Res() res: Response): void {
    this.sendAsset(`assets/${file}`, req, res);
  }

  private get secureCookies(): boolean {
    return this.app.publicUrl.startsWith('https://');
  }

  private links(req: Request): Record<PageLanguage, string> {
    return { en: withLanguage(req, 'en'), 'zh-CN': withLanguage(req, 'zh-CN') };
  }

  private sendPage(res: Response, status: number, html: string): void {
    res.setHeader('Content-Security-Policy', this.csp);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Vary', 'Accept-Language, Cookie');
    res.status(status).type('html').send(html);
  }

  private sendAsset(path: string, req: Request, res: Response): void {
    const asset = this.assets.get(path);
    if (!asset) throw new NotFoundError('No such file.');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('ETag', asset.etag);
    if (req.headers['if-none-match'] === asset.etag) {
      res.status(304).end();
      return;
    }
    res.type(asset.type).send(asset.body);
  }
}
