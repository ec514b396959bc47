import { afterEach, describe, expect, it } from '@jest/globals';
import { Global, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { testConfig } from '../../support/test-config.js';
import { ClockModule } from '../../../src/common/index.js';
import { ConfigModule } from '../../../src/config/index.js';
import { OAuthRegistry, PROVIDER_DEFINITIONS, PROVIDERS } from '../../../src/oauth/oauth.registry.js';
import { PLUGGED_PROVIDER_SETTINGS, type ProviderSettingsById } from '../../../src/oauth/provider-settings.js';
import { UpstreamHttp } from '../../../src/oauth/upstream.http.js';

const PLUGGED_WECHAT = {
  appId: 'wx-plugged',
  appSecret: 'plugged-secret',
  openBase: 'https://plugged.example/wechat',
  apiBase: 'https://plugged.example/wechat-api',
};

/** A plug-in as the sandboxes are one: a global module that provides the token, known to nobody in oauth/. */
function plugIn(settings: ProviderSettingsById) {
  @Global()
  @Module({
    providers: [{ provide: PLUGGED_PROVIDER_SETTINGS, useValue: settings }],
    exports: [PLUGGED_PROVIDER_SETTINGS],
  })
  class PlugIn {}
  return PlugIn;
}

describe('OAuthRegistry: provider settings plugged in from outside', () => {
  let moduleRef: TestingModule | undefined;

  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
  });

  async function registry(env: Record<string, string>, plugins: Array<ReturnType<typeof plugIn>> = []) {
    moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(testConfig({ SANDBOXES: 'off', ...env })), ClockModule, ...plugins],
      providers: [OAuthRegistry, UpstreamHttp, { provide: PROVIDER_DEFINITIONS, useValue: PROVIDERS }],
    }).compile();
    return moduleRef.get(OAuthRegistry);
  }

  it('without a plug-in and without credentials, every provider is disabled', async () => {
    const providers = await registry({});
    expect(providers.list('en').map((p) => [p.id, p.enabled])).toEqual([
      ['wechat', false],
      ['alipay', false],
      ['dingtalk', false],
    ]);
    expect(() => providers.get('wechat')).toThrow(expect.objectContaining({ code: 'oauth.provider_disabled' }));
    expect(providers.viewOf('wechat')).toBeNull();
    expect(providers.secretsOf('wechat')).toEqual([]);
  });

  it('a global module providing PLUGGED_PROVIDER_SETTINGS enables a provider, built from those settings and marked sandbox', async () => {
    const providers = await registry({}, [plugIn({ wechat: PLUGGED_WECHAT })]);
    expect(providers.list('en').find((p) => p.id === 'wechat')).toMatchObject({ enabled: true, sandbox: true });
    expect(providers.viewOf('wechat')).toEqual({
      appId: 'wx-plugged',
      appSecret: '…',
      openBase: 'https://plugged.example/wechat',
      apiBase: 'https://plugged.example/wechat-api',
    });
    expect(providers.secretsOf('wechat')).toEqual(['plugged-secret']);
    expect(providers.get('wechat').authorizationUrl({ state: 's', redirectUri: 'https://sg.example/cb' })).toMatch(
      /^https:\/\/plugged\.example\/wechat\/connect\/qrconnect\?appid=wx-plugged&/,
    );
    expect(providers.list('en').find((p) => p.id === 'alipay')).toMatchObject({ enabled: false });
  });

  it('configured credentials win over plugged-in ones, and are not a sandbox', async () => {
    const providers = await registry({ WECHAT_APP_ID: 'wx-configured', WECHAT_APP_SECRET: 'configured-secret' }, [
      plugIn({ wechat: PLUGGED_WECHAT }),
    ]);
    expect(providers.list('en').find((p) => p.id === 'wechat')).toMatchObject({ enabled: true, sandbox: false });
    expect(providers.viewOf('wechat')).toMatchObject({ appId: 'wx-configured' });
    expect(providers.secretsOf('wechat')).toEqual(['configured-secret']);
  });
});
