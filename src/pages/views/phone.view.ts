import { escapeHtml } from '../../common/index.js';
import type { Messages } from '../i18n/messages.js';
import { passwordFields, passwordSubmit } from './password-fields.view.js';

/**
 * `/m/qr/{id}`: every state of the phone's side is in the page; the script
 * shows one at a time (loading → sign-in → ask → done, or error). Hooks per
 * PROTOCOL.md § Pages: `data-match-choice`, `data-action="confirm|decline"`.
 */
export function phoneView(t: Messages): string {
  const text = (key: keyof Messages) => escapeHtml(t[key]);
  const row = (key: 'browser' | 'os' | 'ip' | 'location' | 'time') =>
    `<div><dt>${text(`phone.ask.${key}`)}</dt><dd data-requester="${key}">${text('phone.ask.unknown')}</dd></div>`;
  return `<section data-view="loading"><p class="status" role="status">${text('phone.loading')}</p></section>
<section data-view="sign-in" aria-labelledby="sign-in-heading" hidden>
<h1 id="sign-in-heading">${text('phone.signIn.heading')}</h1>
<p class="hint">${text('phone.signIn.explain')}</p>
<p class="notice warning" data-insecure hidden>${text('phone.signIn.insecure')}</p>
<form data-form="sign-in" method="post" novalidate>
${passwordFields(t)}
${passwordSubmit(t['phone.signIn.submit'])}
</form>
</section>
<section data-view="ask" aria-labelledby="ask-heading" hidden>
<h1 id="ask-heading">${text('phone.heading')}</h1>
<p>${text('phone.ask.intro')}</p>
<p class="notice warning" data-risk-warning role="alert" hidden>${text('phone.ask.warning')}</p>
<dl class="requester">${row('browser')}${row('os')}${row('ip')}${row('location')}${row('time')}</dl>
<fieldset class="choices" data-choices hidden><legend>${text('phone.ask.pick')}</legend><div class="choice-row"></div></fieldset>
<p class="hint" data-no-match hidden>${text('phone.ask.noMatch')}</p>
<p class="error" data-ask-error role="alert" hidden></p>
<div class="decision">
<button type="button" class="decide confirm" data-action="confirm">${text('phone.confirm')}</button>
<button type="button" class="decide decline" data-action="decline">${text('phone.decline')}</button>
</div>
</section>
<section data-view="done" hidden><p class="outcome" data-done-text role="status"></p></section>
<section data-view="error" hidden><p class="notice error" data-error-text role="alert"></p></section>
<footer class="account" data-account hidden>${text('phone.account')} <strong data-account-name></strong>
<button type="button" class="link" data-action="sign-out">${text('phone.signOut')}</button></footer>`;
}
