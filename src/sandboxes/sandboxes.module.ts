import { Module, type DynamicModule } from '@nestjs/common';
import { Clock } from '../common/clock/clock.js';
import { CryptoService } from '../common/crypto/crypto.service.js';
import { APP_CONFIG, type AppConfig, type WechatSettings } from '../config/config.types.js';
import { WechatSandboxController } from './wechat/wechat.sandbox.controller.js';
import { WechatSandbox } from './wechat/wechat.sandbox.js';

/** Settings under which the OAuth module reaches each mounted sandbox (empty when none is). */
export const SANDBOX_PROVIDERS = Symbol('SANDBOX_PROVIDERS');
export interface SandboxProviders {
  wechat?: WechatSettings;
}

/**
 * Provider simulators for development and tests (PROVIDERS.md): mounted under
 * `/sandbox/<provider>` only when `SANDBOXES` is on and never in production
 * (the configuration refuses it there). Each registers one app whose
 * credentials it hands to the OAuth module: the browser goes to the sandbox at
 * the public URL, the server calls it over loopback on its own port.
 */
@Module({})
export class SandboxesModule {
  static forRoot(enabled: boolean): DynamicModule {
    if (!enabled) return { module: SandboxesModule, providers: [{ provide: SANDBOX_PROVIDERS, useValue: {} }], exports: [SANDBOX_PROVIDERS] };
    return {
      module: SandboxesModule,
      controllers: [WechatSandboxController],
      providers: [
        {
          provide: WechatSandbox,
          inject: [CryptoService, Clock, APP_CONFIG],
          useFactory: (crypto: CryptoService, clock: Clock, app: AppConfig) => new WechatSandbox(crypto, clock, new URL(app.publicUrl).host),
        },
        {
          provide: SANDBOX_PROVIDERS,
          inject: [WechatSandbox, APP_CONFIG],
          useFactory: (wechat: WechatSandbox, app: AppConfig): SandboxProviders => ({
            wechat: { appId: wechat.app.appId, appSecret: wechat.app.appSecret, openBase: `${app.publicUrl}/sandbox/wechat`, apiBase: `http://127.0.0.1:${app.port}/sandbox/wechat` },
          }),
        },
      ],
      exports: [SANDBOX_PROVIDERS],
    };
  }
}
