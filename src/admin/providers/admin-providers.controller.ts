import { Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam } from '@nestjs/swagger';
import { Roles } from '../../auth/index.js';
import { ApiErrors } from '../../common/index.js';
import { ActingAs, type Acting } from '../common/acting.js';
import { AdminController } from '../common/admin-route.js';
import { AdminProvidersService } from './admin-providers.service.js';
import { NoQuery } from '../common/admin-list.js';

const LIST_EXAMPLE = {
  items: [
    {
      id: 'wechat',
      enabled: true,
      sandbox: false,
      config: {
        appId: 'wx1234567890abcdef',
        appSecret: '…a1b2',
        openBase: 'https://open.weixin.qq.com',
        apiBase: 'https://api.weixin.qq.com',
      },
    },
    {
      id: 'alipay',
      enabled: true,
      sandbox: true,
      config: {
        appId: '2021000000000001',
        privateKey: '…QIDA',
        appPublicKeySha256: '5b0c…',
        alipayPublicKeySha256: '9e1d…',
        authBase: 'http://localhost:3000/sandbox/alipay',
        gateway: 'http://127.0.0.1:3000/sandbox/alipay/gateway.do',
      },
    },
    { id: 'dingtalk', enabled: false, sandbox: false, config: null },
  ],
};

const CHECK_EXAMPLE = {
  id: 'wechat',
  ok: true,
  result: 'credentials_valid',
  detail:
    "WeChat access_token refused: errcode 40029: only the made-up code was refused, so the app's credentials were accepted",
  providerCode: '40029',
  sandbox: false,
  durationMs: 184,
};

@AdminController('providers')
export class AdminProvidersController {
  constructor(private readonly service: AdminProvidersService) {}

  @Get()
  @Roles('admin', 'auditor')
  @ApiOperation({
    summary:
      'Every provider ScanGate knows: enabled or not, served by its sandbox or not, and its settings with secrets masked',
    description:
      'Ids and URLs in clear; a secret (app secret, client secret, private key) as `…` and at most its last 4 characters; RSA keys also by the SHA-256 of their public half.',
  })
  @ApiOkResponse({ schema: { example: LIST_EXAMPLE } })
  @ApiErrors('auth.unauthenticated', 'auth.forbidden', 'rate_limited')
  list(@Query({ schema: NoQuery }) _query: object) {
    return this.service.list();
  }

  @Post(':id/check')
  @HttpCode(200)
  @ApiParam({ name: 'id', enum: ['wechat', 'alipay', 'dingtalk'] })
  @ApiOperation({
    summary: 'A live credential check: sends the provider (or its sandbox) a made-up code',
    description:
      '"Invalid code" proves the credentials (`credentials_valid`); "invalid app/secret" disproves them (`credentials_invalid`); ' +
      'a timeout (OAUTH_TIMEOUT_MS), a network failure or a malformed answer is `unreachable`. All three are 200: the check ' +
      'ran and its verdict is the answer (a 502 would read as ScanGate failing, and look like a proxy error); `ok` says ' +
      'whether sign-ins can work. Audited (`provider.checked`).',
  })
  @ApiOkResponse({ schema: { example: CHECK_EXAMPLE } })
  @ApiErrors('oauth.provider_disabled', 'auth.unauthenticated', 'auth.forbidden', 'rate_limited')
  check(@Query({ schema: NoQuery }) _query: object, @Param('id') id: string, @ActingAs() acting: Acting) {
    return this.service.check(id, acting);
  }
}
