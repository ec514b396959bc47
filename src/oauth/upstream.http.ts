import { Inject, Injectable } from '@nestjs/common';
import { OAUTH_CONFIG, type OAuthConfig } from '../config/index.js';
import { OAuthProviderError } from './oauth-provider.js';

/** Larger answers are not what any provider sends: refused rather than buffered. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface UpstreamResponse {
  status: number;
  contentType: string | null;
  /** The raw body (Alipay's signatures cover its exact text). */
  text: string;
}

/**
 * The one way providers call their platforms: a timeout per call
 * (`OAUTH_TIMEOUT_MS`, default 5 s), no retry, no redirect following, bodies
 * bounded. A timeout or a network failure is `OAuthProviderError('upstream')`;
 * reading the answer is the provider's business (every status is returned).
 * The URL may carry credentials (WeChat's `secret`): it is never logged here.
 */
@Injectable()
export class UpstreamHttp {
  constructor(@Inject(OAUTH_CONFIG) private readonly config: OAuthConfig) {}

  async request(
    url: string,
    init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {},
  ): Promise<UpstreamResponse> {
    const host = safeHost(url);
    let response: Response;
    try {
      response = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(this.config.timeoutMs) });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      throw new OAuthProviderError(
        'upstream',
        timedOut ? `${host} did not answer within ${this.config.timeoutMs} ms` : `${host} is unreachable`,
      );
    }
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (declared > MAX_BODY_BYTES) throw new OAuthProviderError('upstream', `${host} sent an oversized answer`);
    let text: string;
    try {
      text = await response.text();
    } catch {
      throw new OAuthProviderError('upstream', `${host} broke off its answer`);
    }
    if (Buffer.byteLength(text) > MAX_BODY_BYTES)
      throw new OAuthProviderError('upstream', `${host} sent an oversized answer`);
    return { status: response.status, contentType: response.headers.get('content-type'), text };
  }
}

/** Scheme, host and path of a URL, without its query (which may hold a secret). */
function safeHost(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return 'the provider';
  }
}
