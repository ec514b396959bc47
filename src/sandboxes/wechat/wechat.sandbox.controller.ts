import { Body, Controller, Get, Header, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../../auth/index.js';
import { escapeHtml } from '../../common/index.js';
import { answerQrPage, page, decisionAnswer, phoneAnswer, type PhoneTexts } from '../sandbox-pages.js';
import { WechatSandbox, type WechatFaults } from './wechat.sandbox.js';

/** What the sandbox phone says. */
const PHONE: PhoneTexts = {
  title: 'WeChat sandbox phone',
  question: 'A website asks to sign you in with WeChat.',
  allow: { value: 'approve', label: '同意 · Allow', done: 'allowed' },
  refuse: { value: 'cancel', label: '取消 · Cancel', done: 'cancelled' },
};

/**
 * The WeChat sandbox's HTTP face, at the real paths under `/sandbox/wechat`:
 * the `qrconnect` QR page (which refreshes itself and follows the approval),
 * the "phone" that scans and approves, `sns/oauth2/access_token` and
 * `sns/userinfo` (JSON sent as `text/plain`, as WeChat does), and `__sim/faults`
 * for tests. Mounted only outside production (SandboxesModule).
 */
@Public()
@ApiExcludeController()
@Controller('sandbox/wechat')
export class WechatSandboxController {
  constructor(private readonly sandbox: WechatSandbox) {}

  @Get('connect/qrconnect')
  async qrPage(@Query() query: Record<string, unknown>, @Res() res: Response): Promise<void> {
    const uuid = typeof query.uuid === 'string' ? query.uuid : undefined;
    if (uuid) return this.follow(uuid, res);
    const opened = this.sandbox.open(query);
    if ('error' in opened) {
      res
        .status(200)
        .type('html')
        .send(page('微信登录 · WeChat sandbox', `<p class="error">${escapeHtml(opened.error)}</p>`));
      return;
    }
    res.redirect(303, `qrconnect?uuid=${encodeURIComponent(opened.uuid)}`);
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
    return decisionAnswer(body, PHONE, (decision: Parameters<WechatSandbox['decide']>[1], user) =>
      this.sandbox.decide(uuid, decision, user),
    );
  }

  @Get('sns/oauth2/access_token')
  async accessToken(@Query() query: Record<string, unknown>, @Res() res: Response): Promise<void> {
    await this.answer(res, this.sandbox.accessToken(query));
  }

  @Get('sns/userinfo')
  async userInfo(@Query() query: Record<string, unknown>, @Res() res: Response): Promise<void> {
    await this.answer(res, this.sandbox.userInfo(query));
  }

  /** Test control plane (not part of WeChat's protocol): faults for the server-side endpoints. */
  @Post('__sim/faults')
  @HttpCode(200)
  faults(@Body() body: WechatFaults): WechatFaults {
    this.sandbox.faults = {
      ...(typeof body?.delayMs === 'number' ? { delayMs: Math.min(body.delayMs, 60_000) } : {}),
      ...(body?.malformed === true ? { malformed: true } : {}),
      ...(typeof body?.errcode === 'number' ? { errcode: body.errcode } : {}),
    };
    return this.sandbox.faults;
  }

  /** The QR page: the code to scan, then (refreshing every 2 s) the redirect once approved. */
  private follow(uuid: string, res: Response): Promise<void> {
    return answerQrPage(res, uuid, this.sandbox.status(uuid), {
      title: '微信登录 · WeChat sandbox',
      scan: '微信扫码登录 · Scan with WeChat (sandbox)',
      cancelled: '你已取消此次登录 · You cancelled this sign-in.',
    });
  }

  private async answer(res: Response, body: Record<string, unknown>): Promise<void> {
    if (this.sandbox.delayMs > 0) await new Promise((r) => setTimeout(r, this.sandbox.delayMs));
    // WeChat sends JSON as text/plain and escapes "/" (PROVIDERS.md §1.7, §1.10).
    const text = 'malformed' in body ? '<html>502 Bad Gateway</html>' : JSON.stringify(body).replace(/\//g, '\\/');
    res.status(200).type('text/plain').send(text);
  }
}
