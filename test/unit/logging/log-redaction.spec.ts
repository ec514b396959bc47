import { describe, expect, it } from '@jest/globals';
import { redactUrl, REDACTED } from '../../../src/logging/log-redaction.js';

describe('redactUrl', () => {
  it('replaces the value of every secret query parameter, whatever its case or encoding', () => {
    expect(redactUrl('/cb?code=abc&state=xyz&x=1')).toBe(`/cb?code=${REDACTED}&state=${REDACTED}&x=1`);
    expect(redactUrl('/cb?auth_code=a1&authCode=b2&AUTH%5FCODE=c3')).toBe(
      `/cb?auth_code=${REDACTED}&authCode=${REDACTED}&AUTH%5FCODE=${REDACTED}`,
    );
  });

  it('leaves URLs without secrets unchanged', () => {
    expect(redactUrl('/api/v1/qr-sessions/abc?waitSeconds=5&afterVersion=2')).toBe(
      '/api/v1/qr-sessions/abc?waitSeconds=5&afterVersion=2',
    );
    expect(redactUrl('/health/ready')).toBe('/health/ready');
  });

  it('survives malformed percent-encoding without leaking', () => {
    expect(redactUrl('/cb?state=%E0%A4%A&code=%ZZ')).toBe(`/cb?state=${REDACTED}&code=${REDACTED}`);
  });
});
