import { Body, Controller, Get, Header, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../../auth/index.js';
import { escapeHtml } from '../../common/index.js';
import { answerQrPage, page, decisionAnswer, phoneAnswer, type PhoneTexts } from '../sandbox-pages.js';
import { DingtalkSandbox, type DingtalkAnswer, type DingtalkFaults } from './dingtalk.sandbox.js';

const TITLE = '钉钉登录 · DingTalk sandbox';

/** What the sandbox phone says. */
const PHONE: PhoneTexts = {
  title: 'DingTalk sandbox phone',
  question: 'A website asks to sign you in with DingTalk.',
  allow: { value: 'approve', label: '同意 · Agree', done: 'approved' },
  refuse: { value: 'decline', label: '拒绝 · Decline', done: 'declined' },
};

/**
 * The DingTalk sandbox's HTTP face under `/sandbox/dingtalk`: `oauth2/auth`
 * (the QR page, refreshing itself until the phone decides), the phone,
 * `v1.0/oauth2/userAccessToken` (JSON only) and `v1.0/contact/users/me`, and
 * `__sim/faults` for tests. Mounted only outside production.
 */
@Public()
@ApiExcludeController()
@Controller('sandbox/dingtalk')
export class DingtalkSandboxController {
  constructor(private readonly sandbox: DingtalkSandbox) {}

  @Get('oauth2/auth')
  async auth(@Query() query: Record<string, unknown>, @Res() res: Response): Promise<void> {
    if (typeof query.uuid === 'string') return this.follow(query.uuid, res);
    const opened = this.sandbox.open(query);
    if ('error' in opened) {
      res.type('html').send(page(TITLE, `<p class="error">${escapeHtml(opened.error)}</p>`));
      return;
    }
    res.redirect(303, `auth?uuid=${encodeURIComponent(opened.uuid)}`);
  }

  @Get('phone/:uuid')
  @Header('Content-Type', 'text/html; charset=utf-8')
  phone(@Param('uuid') uuid: string): string {
    return phoneAnswer(uuid, this.sandbox.status(uuid), PHONE);
  }

  @Post('phone/:uuid')
  @HttpCode(200)
  @Header('Content-Type', 'text/html; charset=utf-8')
  decide(@Param('uuid') uuid: string, @Body() body: { decision?: string; user?: string }): string {
    return decisionAnswer(body, PHONE, (decision: Parameters<DingtalkSandbox['decide']>[1], user) =>
      this.sandbox.decide(uuid, decision, user),
    );
  }

  @Post('v1.0/oauth2/userAccessToken')
  async userAccessToken(@Req() req: Request, @Res() res: Response): Promise<void> {
    const json =
      req.is('application/json') && req.body && typeof req.body === 'object'
        ? (req.body as Record<string, unknown>)
        : null;
    await this.answer(res, this.sandbox.userAccessToken(json));
  }

  @Get('v1.0/contact/users/me')
  async me(@Headers('x-acs-dingtalk-access-token') token: string | undefined, @Res() res: Response): Promise<void> {
    await this.answer(res, this.sandbox.me(token));
  }

  /** Test control plane (not part of DingTalk's protocol). */
  @Post('__sim/faults')
  @HttpCode(200)
  faults(@Body() body: DingtalkFaults): DingtalkFaults {
    this.sandbox.faults = {
      ...(typeof body?.delayMs === 'number' ? { delayMs: Math.min(body.delayMs, 60_000) } : {}),
      ...(body?.malformed === true ? { malformed: true } : {}),
      ...(body?.error && typeof body.error.status === 'number' && typeof body.error.code === 'string'
        ? { error: { status: body.error.status, code: body.error.code } }
        : {}),
    };
    return this.sandbox.faults;
  }

  private follow(uuid: string, res: Response): Promise<void> {
    return answerQrPage(res, uuid, this.sandbox.status(uuid), {
      title: TITLE,
      scan: '钉钉扫码登录 · Scan with DingTalk (sandbox)',
    });
  }

  private async answer(res: Response, answer: DingtalkAnswer): Promise<void> {
    if (this.sandbox.delayMs > 0) await new Promise((r) => setTimeout(r, this.sandbox.delayMs));
    if ('malformed' in answer.body) {
      res.status(200).type('html').send('<html>502 Bad Gateway</html>');
      return;
    }
    res.status(answer.status).setHeader('x-acs-request-id', 'sandbox').json(answer.body);
  }
}
