import { escapeHtml } from '../../common/index.js';
import { errorText, type Messages } from '../i18n/messages.js';
import { passwordFields, passwordSubmit } from './password-fields.view.js';

interface ProviderButton {
  id: string;
  name: string;
  sandbox: boolean;
}

export interface LoginViewInput {
  messages: Messages;
  providers: ProviderButton[];
  /** Validated already (`safeReturnTo`); null: stay on /login and show who is signed in. */
  returnTo: string | null;
  /** `?error=<code>` after a failed third-party sign-in. */
  error: string | null;
  /** Development: a link to the phone page under the QR, to try the flow with two windows. */
  tryHere: boolean;
}

/**
 * `/login`: the QR (drawn by the SDK into `[data-qr]`), its state, the
 * provider buttons (plain links: they work without script), the password
 * form, and the signed-in state. Hooks per PROTOCOL.md § Pages.
 */
export function loginView({ messages: t, providers, returnTo, error, tryHere }: LoginViewInput): string {
  const text = (key: keyof Messages) => escapeHtml(t[key]);
  const providerLinks = providers
    .map((p) => {
      const href = `/api/v1/oauth/${encodeURIComponent(p.id)}/authorize?returnTo=${encodeURIComponent(returnTo ?? '/login')}`;
      const badge = p.sandbox ? ` <small class="badge">${text('providers.sandbox')}</small>` : '';
      return `<li><a class="provider provider-${escapeHtml(p.id)}" data-provider="${escapeHtml(p.id)}" href="${escapeHtml(href)}">${escapeHtml(p.name)}${badge}</a></li>`;
    })
    .join('');
  return `<p class="notice error" data-error role="alert"${error ? '' : ' hidden'}>${error ? escapeHtml(errorText(t, error)) : ''}</p>
<section class="qr-login" data-view="qr" aria-labelledby="qr-heading">
<h1 id="qr-heading">${text('login.heading')}</h1>
<p class="hint">${text('login.hint')}</p>
<div class="qr-box" data-qr data-qr-status="loading" aria-describedby="qr-status"><div class="qr-placeholder" aria-hidden="true"></div></div>
<p class="status" id="qr-status" data-status role="status" aria-live="polite">${text('status.loading')}</p>
<p class="status minor" data-transport-note hidden>${text('status.longPoll')}</p>
<button type="button" class="primary" data-action="renew" hidden>${text('action.renew')}</button>
${tryHere ? `<p class="try-here" hidden><a data-phone-link target="_blank" rel="noopener">${text('login.tryHere')}</a></p>` : ''}
<noscript><p class="notice">${text('login.noscript')}</p></noscript>
</section>
<section class="signed-in" data-view="signed-in" aria-labelledby="signed-in-heading" hidden>
<h1 id="signed-in-heading">${text('signedIn.heading')}</h1>
<p class="who">${text('signedIn.as')} <strong data-signed-in-user></strong></p>
<button type="button" data-action="sign-out">${text('signedIn.signOut')}</button>
</section>
<section class="alternatives" data-view="alternatives" aria-label="${text('providers.heading')}">
${providers.length > 0 ? `<h2>${text('providers.heading')}</h2>\n<ul class="providers">${providerLinks}</ul>` : ''}
<details class="password"${error === 'auth.invalid_credentials' ? ' open' : ''}>
<summary>${text('password.heading')}</summary>
<form data-form="password" method="post" novalidate>
${passwordFields(t)}
${passwordSubmit(t['password.submit'])}
</form>
</details>
</section>`;
}
