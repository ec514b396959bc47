import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
  type PipeTransform,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import {
  Client,
  CurrentUser,
  Public,
  type Principal,
  RefreshCookie,
  WebSignIn,
  type ClientContext,
} from '../auth/index.js';

import { ValidationError, AllExceptionsFilter, ApiErrors, ApiZodBody } from '../common/index.js';

import { RateLimitGuard } from '../rate-limit/index.js';
import { ConfirmBody, CreateQrBody, EmptyBody, ImageQuery, QR_ID, StatusQuery } from './dto/qr-login.schemas.js';
import { QrImageRenderer } from './qr-image/qr-image.renderer.js';
import { QrLoginError } from './qr-login.errors.js';
import { QrLoginService } from './qr-login.service.js';
import { QrExchangeService } from './qr-exchange.service.js';
import { QrStatusService } from './qr-status.service.js';
import { QR_CREATE_LIMITS, QR_IMAGE_LIMITS, QR_SCAN_LIMITS } from './qr-rate-limits.js';

/** A QR id in the path: anything that cannot be one is simply not found. */
class QrIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!QR_ID.test(value)) throw new QrLoginError('qr.not_found');
    return value;
  }
}

const STATUS_EXAMPLE = { id: 'Vq3…', status: 'pending', version: 1, expiresAt: '2026-11-26T21:02:00.000Z' };

@ApiTags('qr-login')
@Controller('api/v1/qr-sessions')
export class QrLoginController {
  constructor(
    private readonly qr: QrLoginService,
    private readonly exchanges: QrExchangeService,
    private readonly browsers: QrStatusService,
    private readonly images: QrImageRenderer,
    private readonly cookie: RefreshCookie,
    private readonly web: WebSignIn,
    private readonly errors: AllExceptionsFilter,
  ) {}

  @Public()
  @Post()
  @HttpCode(201)
  @UseGuards(RateLimitGuard(QR_CREATE_LIMITS))
  @ApiOperation({
    summary: 'Create a QR login (browser)',
    description: 'Keep `pollToken` private: every browser-side call needs it.',
  })
  @ApiZodBody(CreateQrBody, { returnTo: '/dashboard' })
  @ApiCreatedResponse({
    schema: {
      example: {
        id: 'Vq3…',
        pollToken: 'b8Z…',
        status: 'pending',
        version: 1,
        qrContent: 'https://login.example.com/m/qr/Vq3…',
        qrImage: { svg: '/api/v1/qr-sessions/Vq3…/qr.svg', png: '/api/v1/qr-sessions/Vq3…/qr.png' },
        expiresAt: '2026-11-26T21:02:00.000Z',
        pollIntervalMs: 1000,
        matchCode: '37',
      },
    },
  })
  @ApiErrors('validation.failed', 'rate_limited', 'store.unavailable')
  create(@Body({ schema: CreateQrBody }) body: CreateQrBody, @Client() client: ClientContext) {
    return this.qr.create(body.returnTo, client);
  }

  @Public()
  @Get(':id')
  @ApiOperation({
    summary: 'Status (browser); long poll with waitSeconds and afterVersion',
    description:
      'Holds the request until `version > afterVersion` or `waitSeconds` pass, then answers the current status. ' +
      'Rate-limited after the poll token is checked: per QR session with the right token, per client IP with a wrong one.',
  })
  @ApiHeader({ name: 'X-Poll-Token', required: true })
  @ApiOkResponse({ schema: { example: STATUS_EXAMPLE } })
  @ApiErrors('qr.not_found', 'validation.failed', 'rate_limited')
  async status(
    @Param('id', QrIdPipe) id: string,
    @Query({ schema: StatusQuery }) query: StatusQuery,
    @Headers('x-poll-token') pollToken: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const poll = { ip: req.ip ?? null };
    if (!query.waitSeconds) {
      res.json(await this.browsers.status(id, pollToken, poll));
      return;
    }
    // Answered from a callback, after this handler has returned: a waiting request
    // holds no Nest call chain (PROTOCOL: thousands of them must cost little).
    const cancel = await this.browsers.listen(
      id,
      pollToken,
      query.afterVersion ?? 0,
      query.waitSeconds,
      (outcome) => {
        if (res.headersSent || res.destroyed) return;
        if (outcome instanceof Error) this.errors.respond(outcome, req, res);
        else res.json(outcome);
      },
      poll,
    );
    res.once('close', cancel);
  }

  @Public()
  @Get(':id/qr.svg')
  @UseGuards(RateLimitGuard(QR_IMAGE_LIMITS))
  @ApiOperation({ summary: 'The QR image (SVG) of qrContent' })
  @ApiProduces('image/svg+xml')
  @ApiOkResponse({ description: 'SVG' })
  @ApiErrors('qr.not_found', 'validation.failed', 'rate_limited')
  async svg(
    @Param('id', QrIdPipe) id: string,
    @Query({ schema: ImageQuery }) query: { size?: number },
    @Res() res: Response,
  ) {
    await this.sendImage(id, 'svg', query.size, res);
  }

  @Public()
  @Get(':id/qr.png')
  @UseGuards(RateLimitGuard(QR_IMAGE_LIMITS))
  @ApiOperation({ summary: 'The QR image (PNG) of qrContent' })
  @ApiProduces('image/png')
  @ApiOkResponse({ description: 'PNG' })
  @ApiErrors('qr.not_found', 'validation.failed', 'rate_limited')
  async png(
    @Param('id', QrIdPipe) id: string,
    @Query({ schema: ImageQuery }) query: { size?: number },
    @Res() res: Response,
  ) {
    await this.sendImage(id, 'png', query.size, res);
  }

  @Post(':id/scan')
  @HttpCode(200)
  @UseGuards(RateLimitGuard(QR_SCAN_LIMITS))
  @ApiBearerAuth()
  @ApiHeader({
    name: 'X-Device-Signature',
    required: false,
    description:
      'Required when the session registered a device key: base64url ES256 (P1363) signature of `scangate:scan:<id>`',
  })
  @ApiOperation({ summary: 'Scan (phone): who is asking, and the number choices' })
  @ApiZodBody(EmptyBody)
  @ApiOkResponse({
    schema: {
      example: {
        id: 'Vq3…',
        status: 'scanned',
        expiresAt: '2026-11-26T21:02:00.000Z',
        requester: {
          ip: '203.0.113.7',
          location: 'Shanghai, CN',
          browser: 'Chrome 142',
          os: 'Windows 10',
          deviceType: 'desktop',
          createdAt: '…',
        },
        risk: { networkMatch: false, level: 'elevated', reasons: ['network_mismatch'] },
        matchCodeChoices: ['82', '37', '15'],
      },
    },
  })
  @ApiErrors(
    'qr.not_found',
    'qr.expired',
    'qr.already_scanned',
    'qr.wrong_state',
    'auth.unauthenticated',
    'auth.device_signature_invalid',
    'auth.forbidden',
    'rate_limited',
  )
  scan(
    @Param('id', QrIdPipe) id: string,
    @Body({ schema: EmptyBody }) _body: object,
    @Headers('x-device-signature') signature: string | undefined,
    @CurrentUser() principal: Principal,
    @Client() client: ClientContext,
  ) {
    return this.qr.scan(principal, id, signature, client);
  }

  @Post(':id/confirm')
  @HttpCode(200)
  @UseGuards(RateLimitGuard(QR_SCAN_LIMITS))
  @ApiBearerAuth()
  @ApiHeader({
    name: 'X-Device-Signature',
    required: false,
    description: 'base64url ES256 (P1363) signature of `scangate:confirm:<id>:<matchCode>`',
  })
  @ApiOperation({ summary: 'Confirm (phone that scanned); a wrong number cancels the login' })
  @ApiZodBody(ConfirmBody, { matchCode: '37' })
  @ApiOkResponse({ schema: { example: { status: 'confirmed' } } })
  @ApiErrors(
    'qr.not_found',
    'qr.expired',
    'qr.wrong_state',
    'qr.not_scanner',
    'qr.match_mismatch',
    'auth.device_signature_invalid',
    'auth.forbidden',
    'rate_limited',
  )
  async confirm(
    @Param('id', QrIdPipe) id: string,
    @Body({ schema: ConfirmBody }) body: ConfirmBody,
    @Headers('x-device-signature') signature: string | undefined,
    @CurrentUser() principal: Principal,
    @Client() client: ClientContext,
  ) {
    await this.qr.confirm(principal, id, body.matchCode, signature, client);
    return { status: 'confirmed' };
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Decline (phone that scanned)' })
  @ApiZodBody(EmptyBody)
  @ApiOkResponse({ schema: { example: { status: 'cancelled' } } })
  @ApiErrors('qr.not_found', 'qr.expired', 'qr.wrong_state', 'qr.not_scanner', 'auth.forbidden')
  async cancel(
    @Param('id', QrIdPipe) id: string,
    @Body({ schema: EmptyBody }) _body: object,
    @CurrentUser() principal: Principal,
    @Client() client: ClientContext,
  ) {
    await this.qr.cancel(principal, id, client);
    return { status: 'cancelled' };
  }

  @Public()
  @Post(':id/exchange')
  @HttpCode(200)
  @ApiHeader({ name: 'X-Poll-Token', required: true })
  @ApiOperation({ summary: 'Exchange a confirmed QR login for a web session (browser); sets the refresh cookie' })
  @ApiZodBody(EmptyBody)
  @ApiOkResponse({
    schema: {
      example: { user: { id: '…', displayName: 'Li Lei', avatarUrl: null }, accessToken: 'eyJ…', expiresIn: 600 },
    },
  })
  @ApiErrors('qr.not_found', 'qr.expired', 'qr.consumed', 'qr.wrong_state', 'auth.account_disabled', 'auth.forbidden')
  async exchange(
    @Param('id', QrIdPipe) id: string,
    @Body({ schema: EmptyBody }) _body: object,
    @Headers('x-poll-token') pollToken: string | undefined,
    @Client() client: ClientContext,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    this.cookie.assertAllowedOrigin(req);
    const signedIn = await this.exchanges.exchange(id, pollToken, client);
    const { user } = signedIn;
    return {
      user: { id: user.id, displayName: user.displayName, avatarUrl: user.avatarUrl },
      ...this.web.respond(res, signedIn),
      ...(signedIn.returnTo ? { returnTo: signedIn.returnTo } : {}),
    };
  }

  /** A size the renderer cannot honour (e.g. too small for the content) is the client's error. */
  private async sendImage(id: string, format: 'svg' | 'png', size: number | undefined, res: Response): Promise<void> {
    const content = await this.qr.qrContent(id);
    try {
      const image = format === 'svg' ? await this.images.svg(content, size) : await this.images.png(content, size);
      res.type(format === 'svg' ? 'image/svg+xml' : 'image/png').send(image);
    } catch (error) {
      if (error instanceof RangeError) throw new ValidationError([{ path: 'size', message: error.message }]);
      throw error;
    }
  }
}
