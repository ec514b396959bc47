import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { APP_CONFIG, type AppConfig, type OAuthProviderId } from '../../config/index.js';
import { OAuthProviderError, OAuthRegistry } from '../../oauth/index.js';
import type { Acting } from '../common/acting.js';
import { AdminAudit } from '../common/admin-audit.js';

export interface ProviderItem {
  id: OAuthProviderId;
  enabled: boolean;
  /** Served by its sandbox (development), not the real platform. */
  sandbox: boolean;
  /** Its settings, secrets masked; null when the provider is not configured. */
  config: Record<string, unknown> | null;
}

/**
 * - `credentials_valid`: the provider refused only the made-up code, so it accepted our app id and secret;
 * - `credentials_invalid`: it refused our app (id, secret, key, permissions);
 * - `unreachable`: no usable answer (timeout, network failure, an error page, a malformed body).
 */
export type CheckResult = 'credentials_valid' | 'credentials_invalid' | 'unreachable';

export interface ProviderCheck {
  id: OAuthProviderId;
  ok: boolean;
  result: CheckResult;
  /** What the provider answered, for people; never a secret. */
  detail: string;
  /** The provider's own code (`40029`, `isv.code-invalid`, …) when it gave one. */
  providerCode: string | null;
  sandbox: boolean;
  durationMs: number;
}

/**
 * Providers for operators: which are enabled, their settings with secrets
 * masked, and a live credential check. The check sends a made-up code
 * through the provider's real exchange (`profile`), so it tests exactly the
 * path sign-ins take, with no extra method on the provider contract: a
 * platform checks the app's credentials before it looks at the code, so
 * "invalid code" proves the credentials and "invalid app/secret" disproves them.
 */
@Injectable()
export class AdminProvidersService {
  private readonly logger = new Logger('AdminProviders');

  constructor(
    private readonly registry: OAuthRegistry,
    private readonly audit: AdminAudit,
    @Inject(APP_CONFIG) private readonly app: AppConfig,
  ) {}

  list(): { items: ProviderItem[] } {
    return {
      items: this.registry.list('en').map(({ id, enabled, sandbox }) => {
        return { id, enabled, sandbox, config: enabled ? this.registry.viewOf(id) : null };
      }),
    };
  }

  /** Unknown or disabled: 404 `oauth.provider_disabled` (from the registry), and nothing is called or audited. */
  async check(id: string, acting: Acting): Promise<ProviderCheck> {
    const provider = this.registry.get(id);
    const sandbox = this.registry.list('en').find((p) => p.id === provider.id)?.sandbox ?? false;
    const started = performance.now();
    const outcome = await this.probe(provider.id, (code) =>
      provider.profile(code, `${this.app.publicUrl}/api/v1/oauth/${provider.id}/callback`),
    );
    const durationMs = Math.round(performance.now() - started);
    const detail = scrub(outcome.detail, this.registry.secretsOf(provider.id));
    const answer: ProviderCheck = {
      id: provider.id,
      ok: outcome.result === 'credentials_valid',
      result: outcome.result,
      detail,
      providerCode: outcome.providerCode,
      sandbox,
      durationMs,
    };
    this.logger.log(
      { provider: provider.id, result: answer.result, providerCode: answer.providerCode, durationMs },
      'provider credential check',
    );
    await this.audit.record(
      acting,
      'provider.checked',
      {},
      { provider: provider.id, sandbox, result: answer.result, providerCode: answer.providerCode, durationMs },
    );
    return answer;
  }

  /** One exchange of a made-up code, read as a verdict on the credentials. */
  private async probe(
    id: OAuthProviderId,
    exchange: (code: string) => Promise<unknown>,
  ): Promise<{ result: CheckResult; detail: string; providerCode: string | null }> {
    const code = `ScanGateCheck${randomBytes(12).toString('hex')}`;
    const caveat =
      id === 'alipay' ? ' (Alipay does not sign this answer: ALIPAY_PUBLIC_KEY is checked only by a real sign-in)' : '';
    try {
      await exchange(code);
      return {
        result: 'credentials_valid',
        detail: 'the provider accepted a made-up code: the credentials work, but this is no real platform',
        providerCode: null,
      };
    } catch (error) {
      if (!(error instanceof OAuthProviderError)) {
        this.logger.warn(
          { provider: id, error: (error as Error)?.name },
          'provider credential check failed unexpectedly',
        );
        return { result: 'unreachable', detail: 'the check could not be run (see the server log)', providerCode: null };
      }
      const providerCode = error.providerCode ?? null;
      switch (error.failure) {
        case 'code_invalid':
          return {
            result: 'credentials_valid',
            detail: `${error.message}: only the made-up code was refused, so the app's credentials were accepted${caveat}`,
            providerCode,
          };
        case 'not_allowed':
          // Only said once a code was exchanged with our credentials.
          return {
            result: 'credentials_valid',
            detail: `${error.message}: the app's credentials were accepted`,
            providerCode,
          };
        case 'app_invalid':
          return {
            result: 'credentials_invalid',
            detail: `${error.message}: the app's credentials were refused`,
            providerCode,
          };
        case 'upstream':
          return { result: 'unreachable', detail: error.message, providerCode };
      }
    }
  }
}

/** `text` with every secret (and every 8+ character piece of a PEM body) replaced: belt and braces, providers' messages never hold one. */
function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret) continue;
    out = out.split(secret).join('[secret]');
    if (secret.includes('-----BEGIN')) {
      for (const line of secret.split(/\s+/))
        if (line.length >= 8 && !line.includes('-')) out = out.split(line).join('[secret]');
    }
  }
  return out;
}
