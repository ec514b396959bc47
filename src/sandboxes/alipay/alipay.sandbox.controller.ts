import { Body, Controller, Get, Header, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../../auth/index.js';
import { escapeHtml } from '../../common/index.js';
import { answerQrPage, page, decisionAnswer, phoneAnswer, type PhoneTexts } from '../sandbox-pages.js';
import { AlipaySandbox, type AlipayFaults } from './alipay.sandbox.js';

/** What the sandbox phone says. */
const PHONE: PhoneTexts = {
  title: 'Alipay sandbox phone',
  question: 'A website asks for your Alipay account information (auth_user).',
  allow: { value: 'approve', label: '同意 · Agree', done: 'agreed' },
  refuse: { value: 'cancel', label: '取消 · Cancel', done: 'cancelled' },
};

/**
 * The Alipay sandbox's HTTP face, at the real paths under `/sandbox/alipay`:
 * the `oauth2/publicAppAuthorize.htm` QR page (which refreshes itself and
 * follows the approval), the "phone" that scans and approves, the OpenAPI
 * `gateway.do` (parameters from the query and the form body, answers as exact
 * signed text), and `__sim/faults` for tests. Mounted only outside production
 * (SandboxesModule).
 */
@Public()
@ApiExcludeController()
@Controller('sandbox/alipay')
export class AlipaySandboxController {
  constructor(private readonly sandbox: AlipaySandbox) {}

  @Get('oauth2/publicAppAuthorize.htm')
  async qrPage(@Query() query: Record<string, unknown>, @Res() res: Response): Promise<void> {
    const uuid = typeof query.uuid === 'string' ? query.uuid : undefined;
    if (uuid) return this.follow(uuid, res);
    const opened = this.sandbox.open(query);
    if ('error' in opened) {
      res
        .status(200)
        .type('html')
        .send(page('支付宝登录 · Alipay sandbox', `<p class="error">${escapeHtml(opened.error)}</p>`));
      return;
    }
    res.redirect(303, `publicAppAuthorize.htm?uuid=${encodeURIComponent(opened.uuid)}`);
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
    return decisionAnswer(body, PHONE, (decision: Parameters<AlipaySandbox['decide']>[1], user) =>
      this.sandbox.decide(uuid, decision, user),
    );
  }

  /** Clients split parameters between the query and the form body in different ways (PROVIDERS.md §2.5): both are read. */
  @Post('gateway.do')
  async gateway(@Query() query: Record<string, unknown>, @Body() body: unknown, @Res() res: Response): Promise<void> {
    const form =
      body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
    const answer = this.sandbox.gateway({ ...query, ...form });
    if (this.sandbox.delayMs > 0) await new Promise((r) => setTimeout(r, this.sandbox.delayMs));
    // The exact text: the signature covers a substring of it, so nothing may re-serialize it.
    res.status(200).type('application/json; charset=utf-8').send(answer.text);
  }

  /** Test control plane (not part of Alipay's protocol): faults for the gateway. */
  @Post('__sim/faults')
  @HttpCode(200)
  faults(@Body() body: AlipayFaults): AlipayFaults {
    this.sandbox.faults = {
      ...(typeof body?.delayMs === 'number' ? { delayMs: Math.min(body.delayMs, 60_000) } : {}),
      ...(body?.malformed === true ? { malformed: true } : {}),
      ...(body?.unsigned === true ? { unsigned: true } : {}),
      ...(body?.wrongSignature === true ? { wrongSignature: true } : {}),
      ...(typeof body?.subCode === 'string' && /^[a-z]+\.[a-z0-9.-]+$/.test(body.subCode)
        ? { subCode: body.subCode }
        : {}),
    };
    return this.sandbox.faults;
  }

  /** The QR page: the code to scan, then (refreshing every 2 s) the redirect once approved. */
  private follow(uuid: string, res: Response): Promise<void> {
    return answerQrPage(res, uuid, this.sandbox.status(uuid), {
      title: '支付宝登录 · Alipay sandbox',
      scan: '打开支付宝扫一扫 · Scan with Alipay (sandbox)',
      cancelled: '你已取消授权 · You cancelled this sign-in.',
    });
  }
}
