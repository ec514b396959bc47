import { escapeHtml } from '../../common/index.js';
import type { Messages } from '../i18n/messages.js';

/**
 * Login and password inputs and the form's error line, shared by the login
 * page and the phone page. Disabled until the page's script takes the form
 * over: without it, nothing could submit a password anywhere.
 */
export function passwordFields(t: Messages): string {
  return `<fieldset class="fields" data-fields disabled>
<label>${escapeHtml(t['password.login'])}<input name="login" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="254"></label>
<label>${escapeHtml(t['password.password'])}<input name="password" type="password" autocomplete="current-password" required maxlength="1024"></label>
<p class="error" data-form-error role="alert" hidden></p>`;
}

/** The end of `passwordFields`: the submit button inside the disabled fieldset. */
export function passwordSubmit(label: string): string {
  return `<button type="submit" class="primary">${escapeHtml(label)}</button>
</fieldset>`;
}
