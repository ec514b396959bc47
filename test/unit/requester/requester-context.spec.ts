import { describe, expect, it } from '@jest/globals';
import { GeoIpReader } from '../../../src/requester/geoip.reader.js';
import { RequesterContextBuilder } from '../../../src/requester/requester-context.builder.js';
import { buildRequesterContext, parseUserAgent } from '../../../src/requester/requester-context.js';

const UA = {
  chromeWindows:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36',
  safariIos:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  safariIpad:
    'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  wechatIos:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN',
  wechatAndroid:
    'Mozilla/5.0 (Linux; Android 14; V2309A Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MMWEBID/2247 MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64',
  firefoxLinux: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  safariMac:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
};

describe('parseUserAgent (ua-parser-js 1.x)', () => {
  it('Chrome on Windows: a desktop; Windows 11 cannot be told from 10 by the UA alone', () => {
    expect(parseUserAgent(UA.chromeWindows)).toEqual({
      browser: 'Chrome 142',
      os: 'Windows 10',
      deviceType: 'desktop',
    });
  });

  it('Chrome on Windows with client hints: the platform version decides 10 or 11', () => {
    expect(parseUserAgent(UA.chromeWindows, { platform: '"Windows"', platformVersion: '"15.0.0"' }).os).toBe(
      'Windows 11',
    );
    expect(parseUserAgent(UA.chromeWindows, { platform: '"Windows"', platformVersion: '"10.0.0"' }).os).toBe(
      'Windows 10',
    );
    // Windows 7/8 (0.x), a garbled or a mismatched hint: keep what the UA says.
    expect(parseUserAgent(UA.chromeWindows, { platformVersion: '"0.3.0"' }).os).toBe('Windows 10');
    expect(parseUserAgent(UA.chromeWindows, { platformVersion: 'eleven' }).os).toBe('Windows 10');
    expect(parseUserAgent(UA.chromeWindows, { platform: '"Linux"', platformVersion: '"15.0.0"' }).os).toBe(
      'Windows 10',
    );
  });

  it('Safari on iOS: mobile, tablet on an iPad', () => {
    expect(parseUserAgent(UA.safariIos)).toEqual({ browser: 'Mobile Safari 17', os: 'iOS 17.4', deviceType: 'mobile' });
    expect(parseUserAgent(UA.safariIpad).deviceType).toBe('tablet');
  });

  it('the WeChat in-app browser, on iOS and Android', () => {
    expect(parseUserAgent(UA.wechatIos)).toEqual({ browser: 'WeChat 8', os: 'iOS 17.4', deviceType: 'mobile' });
    expect(parseUserAgent(UA.wechatAndroid)).toEqual({ browser: 'WeChat 8', os: 'Android 14', deviceType: 'mobile' });
  });

  it('Firefox on Linux: an OS without a version', () => {
    expect(parseUserAgent(UA.firefoxLinux)).toEqual({ browser: 'Firefox 133', os: 'Linux', deviceType: 'desktop' });
  });

  it('Safari on a Mac: the frozen 10.15.7 unless a client hint says better', () => {
    expect(parseUserAgent(UA.safariMac)).toEqual({ browser: 'Safari 18', os: 'Mac OS 10.15.7', deviceType: 'desktop' });
    expect(parseUserAgent(UA.safariMac, { platform: '"macOS"', platformVersion: '"14.4.0"' }).os).toBe('Mac OS 14.4');
  });

  it('an empty, missing or unrecognisable UA gives nulls and "unknown"', () => {
    const nothing = { browser: null, os: null, deviceType: 'unknown' };
    expect(parseUserAgent('')).toEqual(nothing);
    expect(parseUserAgent(undefined)).toEqual(nothing);
    expect(parseUserAgent(null)).toEqual(nothing);
    expect(parseUserAgent('curl/8.5.0')).toEqual(nothing);
  });

  it('keeps fields short and printable for hostile input', () => {
    const hostile = `Mozilla/5.0 (Windows NT 10.0) Chrome/${'9'.repeat(5000)}\u0000\u001b[31m`;
    const parsed = parseUserAgent(hostile);
    for (const field of [parsed.browser, parsed.os]) {
      if (field !== null) {
        expect(field.length).toBeLessThanOrEqual(64);
        expect(field).not.toMatch(/[\u0000-\u001f]/);
      }
    }
  });
});

describe('buildRequesterContext', () => {
  it("builds the scan answer's requester block", () => {
    expect(
      buildRequesterContext({
        ip: '::ffff:203.0.113.7',
        userAgent: UA.chromeWindows,
        createdAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
        location: 'Shanghai, CN',
      }),
    ).toEqual({
      ip: '203.0.113.7',
      browser: 'Chrome 142',
      os: 'Windows 10',
      deviceType: 'desktop',
      createdAt: '2026-01-02T03:04:05.006Z',
      location: 'Shanghai, CN',
    });
  });

  it('has null location and ip when unknown', () => {
    const ctx = buildRequesterContext({ ip: undefined, userAgent: '', createdAt: new Date(0) });
    expect(ctx).toEqual({
      ip: null,
      browser: null,
      os: null,
      deviceType: 'unknown',
      createdAt: '1970-01-01T00:00:00.000Z',
      location: null,
    });
  });
});

describe('RequesterContextBuilder without GeoIP databases', () => {
  it('captures the context with a null location and network facts without ASN or country', () => {
    const builder = new RequesterContextBuilder(GeoIpReader.none());
    const captured = builder.capture({ ip: '203.0.113.7', userAgent: UA.firefoxLinux, createdAt: new Date(0) });
    expect(captured.context.location).toBeNull();
    expect(captured.network).toEqual({ ip: '203.0.113.7', asn: null, country: null });
  });
});
