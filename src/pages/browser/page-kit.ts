// What both pages' scripts share: their texts, DOM lookups, JSON calls.
// From the SDK the page loads (/sdk/scangate.js, see scripts/build-web.mjs): one copy of its error class.
import { requestJson, ScanGateError } from '@scangate/web-client';
import { errorText, MESSAGES, type Messages, type PageLanguage } from '../i18n/messages.js';

export { ScanGateError };

/** The page's texts, in the language the server chose (`<html lang>`). */
export const t: Messages = MESSAGES[document.documentElement.lang as PageLanguage] ?? MESSAGES.en;

/** The element for `selector`, which the server always renders. */
export function $<E extends HTMLElement = HTMLElement>(selector: string, root: ParentNode = document): E {
  const element = root.querySelector<E>(selector);
  if (!element) throw new Error(`The page lacks ${selector}`);
  return element;
}

/** Show one `[data-view]` section of `main`, hide the others, and move focus to its heading (or first control). */
export function showView(name: string): void {
  let shown: HTMLElement | null = null;
  for (const section of document.querySelectorAll<HTMLElement>('main > [data-view]')) {
    section.hidden = section.dataset.view !== name;
    if (!section.hidden) shown = section;
  }
  const target = shown?.querySelector<HTMLElement>('h1, [role="status"], [role="alert"]');
  if (target) {
    target.tabIndex = -1;
    target.focus();
  }
}

/** The protocol code of a failure (a `ScanGateError` of the SDK), or null. */
export function codeOf(error: unknown): string | null {
  return error instanceof ScanGateError ? error.code : null;
}

/** The text for a failure, in the page's language. */
export function errorMessage(error: unknown): string {
  return errorText(t, codeOf(error));
}

/** Put `text` in an alert element and show it (or hide it when null). */
export function say(element: HTMLElement, text: string | null): void {
  element.textContent = text ?? '';
  element.hidden = text === null;
}

/** A same-origin JSON call to the API, with the access token when given. */
export function api<T>(
  method: string,
  path: string,
  options: { body?: object; token?: string | null; headers?: Record<string, string> } = {},
): Promise<T> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  return requestJson<T>((...args) => fetch(...args), path, {
    method,
    body: options.body,
    headers,
    credentials: 'same-origin',
  });
}

/**
 * Run `work` while holding a lock shared by this site's tabs: refresh tokens
 * rotate, so two tabs refreshing with the same one at once would look like
 * a stolen token being replayed and end the session.
 */
export function oneTabAtATime<T>(name: string, work: () => Promise<T>): Promise<T> {
  return navigator.locks ? navigator.locks.request(name, work) : work();
}

/** A form's submit, with its button disabled while `handler` runs; enables the form (served disabled). */
export function onSubmit(form: HTMLFormElement, handler: (fields: Record<string, string>) => Promise<void>): void {
  const fieldset = form.querySelector<HTMLFieldSetElement>('[data-fields]');
  if (fieldset) fieldset.disabled = false;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const button = form.querySelector<HTMLButtonElement>('button[type="submit"]');
    const fields = Object.fromEntries([...new FormData(form)].map(([key, value]) => [key, String(value)]));
    if (button) button.disabled = true;
    void handler(fields).finally(() => {
      if (button) button.disabled = false;
    });
  });
}
