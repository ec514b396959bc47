import { Module, type DynamicModule } from '@nestjs/common';
import { Clock, CryptoService } from '../common/index.js';

import { APP_CONFIG, type AppConfig } from '../config/index.js';
import { PLUGGED_PROVIDER_SETTINGS, type ProviderSettingsById } from '../oauth/index.js';
import { DingtalkSandboxController } from './dingtalk/dingtalk.sandbox.controller.js';
import { DingtalkSandbox } from './dingtalk/dingtalk.sandbox.js';
import { AlipaySandboxController } from './alipay/alipay.sandbox.controller.js';
import { AlipaySandbox } from './alipay/alipay.sandbox.js';
import { WechatSandboxController } from './wechat/wechat.sandbox.controller.js';
import { WechatSandbox } from './wechat/wechat.sandbox.js';

/**
 * Provider simulators for development and tests (PROVIDERS.md): mounted under
 * `/sandbox/<provider>` only when `SANDBOXES` is on and never in production
 * (the configuration refuses it there). Each registers one app whose
 * credentials it plugs into the OAuth module (`PLUGGED_PROVIDER_SETTINGS`, from
 * this global module: OAuth never imports it): the browser goes to the sandbox
 * at the public URL, the server calls it over loopback on its own port.
 * Imported by the application module only.
 */
@Module({})
export class SandboxesModule {
  static forRoot(enabled: boolean): DynamicModule {
    if (!enabled) return { module: SandboxesModule };
    return {
      module: SandboxesModule,
      global: true,
      controllers: [WechatSandboxController, AlipaySandboxController, DingtalkSandboxController],
      providers: [
        {
          provide: WechatSandbox,
          inject: [CryptoService, Clock, APP_CONFIG],
          useFactory: (crypto: CryptoService, clock: Clock, app: AppConfig) =>
            new WechatSandbox(crypto, clock, new URL(app.publicUrl).host),
        },
        {
          provide: AlipaySandbox,
          inject: [CryptoService, Clock, APP_CONFIG],
          useFactory: (crypto: CryptoService, clock: Clock, app: AppConfig) =>
            AlipaySandbox.create(crypto, clock, new URL(app.publicUrl).host),
        },
        {
          provide: DingtalkSandbox,
          inject: [CryptoService, Clock, APP_CONFIG],
          useFactory: (crypto: CryptoService, clock: Clock, app: AppConfig) =>
            new DingtalkSandbox(crypto, clock, new URL(app.publicUrl).host),
        },
        {
          provide: PLUGGED_PROVIDER_SETTINGS,
          inject: [WechatSandbox, AlipaySandbox, DingtalkSandbox, APP_CONFIG],
          useFactory: (
            wechat: WechatSandbox,
            alipay: AlipaySandbox,
            dingtalk: DingtalkSandbox,
            app: AppConfig,
          ): ProviderSettingsById => ({
            wechat: {
              appId: wechat.app.appId,
              appSecret: wechat.app.appSecret,
              openBase: `${app.publicUrl}/sandbox/wechat`,
              apiBase: `http://127.0.0.1:${app.port}/sandbox/wechat`,
            },
            alipay: {
              appId: alipay.app.appId,
              privateKeyPem: alipay.app.appPrivateKeyPem,
              alipayPublicKeyPem: alipay.app.alipayPublicKeyPem,
              authBase: `${app.publicUrl}/sandbox/alipay`,
              gateway: `http://127.0.0.1:${app.port}/sandbox/alipay/gateway.do`,
            },
            dingtalk: {
              clientId: dingtalk.app.clientId,
              clientSecret: dingtalk.app.clientSecret,
              loginBase: `${app.publicUrl}/sandbox/dingtalk`,
              apiBase: `http://127.0.0.1:${app.port}/sandbox/dingtalk`,
            },
          }),
        },
      ],
      exports: [PLUGGED_PROVIDER_SETTINGS],
    };
  }
}
