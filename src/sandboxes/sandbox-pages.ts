import type { Request, Response } from 'express';
import QRCode from 'qrcode';
import { escapeHtml } from '../common/index.js';
import { SANDBOX_USERS } from './sandbox-users.js';

/** Minimal pages of the sandboxes: no script, no other host, escaped text. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:2rem auto;padding:0 1rem;text-align:center}.error{color:#b00020}button{font-size:1rem;padding:.5rem 1rem;margin:.25rem}</style>
</head><body><h1>${escapeHtml(title)}</h1><p><small>Provider sandbox: not the real platform.</small></p>${body}</body></html>`;
}

/** The provider's QR page while it waits: a real QR code of the sandbox phone's URL, and the link. */
async function waitingQrPage(title: string, caption: string, phoneUrl: string): Promise<string> {
  const svg = await QRCode.toString(phoneUrl, { type: 'svg', margin: 2, width: 240 });
  return page(
    title,
    `<p>${escapeHtml(caption)}</p><div data-qr>${svg}</div><p><a data-phone href="${escapeHtml(phoneUrl)}">Open the sandbox phone</a></p>`,
  );
}

/** The sandbox phone: pick a sandbox person, then allow or refuse (`decision` = one of the two values). */
function phonePage(
  title: string,
  question: string,
  uuid: string,
  allow: { value: string; label: string },
  refuse: { value: string; label: string },
): string {
  const choices = SANDBOX_USERS.map(
    (u, i) =>
      `<label><input type="radio" name="user" value="${escapeHtml(u.key)}"${i === 0 ? ' checked' : ''}> ${escapeHtml(u.nickname)}</label>`,
  ).join('<br>');
  return page(
    title,
    `<p>${escapeHtml(question)}</p>
     <form method="post" action="${escapeHtml(uuid)}">${choices}
       <p><button name="decision" value="${escapeHtml(allow.value)}" data-action="approve">${escapeHtml(allow.label)}</button>
          <button name="decision" value="${escapeHtml(refuse.value)}" data-action="cancel">${escapeHtml(refuse.label)}</button></p>
     </form>`,
  );
}

/** The URL of the sandbox phone for a pending authorization, next to the page that was asked for. */
function phoneUrlOf(req: Request, uuid: string): string {
  return new URL(
    `../phone/${encodeURIComponent(uuid)}`,
    `${req.protocol}://${req.get('host')}${req.originalUrl}`,
  ).toString();
}

/**
 * Reload the waiting page every 2 s, at its own URL spelled out: a bare
 * `Refresh` to a URL that carries a fragment (WeChat's `#wechat_redirect`)
 * is a same-document navigation in Chromium, and the page would never reload.
 */
function refreshSoon(res: Response): void {
  res.setHeader('Refresh', `2; url=${res.req.originalUrl}`);
}

/** How a sandbox sees a pending authorization when its QR page asks (null: unknown or expired). */
export type QrPageStatus = { waiting: true } | { cancelled: true } | { redirect: string } | null;

/**
 * The provider's QR page at `uuid`: the QR code (reloading itself) while it
 * waits, the redirect once the phone decided, else an expired or cancelled
 * notice. `texts` are the provider's own wording.
 */
export async function answerQrPage(
  res: Response,
  uuid: string,
  status: QrPageStatus,
  texts: { title: string; scan: string; cancelled?: string },
): Promise<void> {
  if (status && 'redirect' in status) {
    res.redirect(302, status.redirect);
    return;
  }
  if (!status) {
    res
      .type('html')
      .send(page(texts.title, '<p data-qr-status="expired">二维码已失效 · This QR code has expired.</p>'));
    return;
  }
  if ('cancelled' in status) {
    res
      .type('html')
      .send(
        page(
          texts.title,
          `<p data-qr-status="cancelled">${escapeHtml(texts.cancelled ?? 'You cancelled this sign-in.')}</p>`,
        ),
      );
    return;
  }
  refreshSoon(res);
  res.type('html').send(await waitingQrPage(texts.title, texts.scan, phoneUrlOf(res.req, uuid)));
}

/** What a sandbox phone says: its title and question, and its two answers (form value, button, what "done" reads). */
export interface PhoneTexts {
  title: string;
  question: string;
  allow: { value: string; label: string; done: string };
  refuse: { value: string; label: string; done: string };
}

/** The sandbox phone for `uuid`: the question while the authorization waits, else a notice. */
export function phoneAnswer(uuid: string, status: QrPageStatus, texts: PhoneTexts): string {
  if (!status || !('waiting' in status)) return page(texts.title, '<p>This QR code is no longer waiting.</p>');
  return phonePage(texts.title, texts.question, uuid, texts.allow, texts.refuse);
}

/** The phone's answer (the refusing value, else the allowing one) given to `decide`; the page saying what was done. */
export function decisionAnswer<D extends string>(
  body: { decision?: string; user?: string } | undefined,
  texts: PhoneTexts,
  decide: (decision: D, user: string) => boolean,
): string {
  const refused = body?.decision === texts.refuse.value;
  const decision = (refused ? texts.refuse.value : texts.allow.value) as D;
  const done = decide(decision, String(body?.user ?? ''));
  return page(
    texts.title,
    done
      ? `<p data-done="${decision}">Done: ${refused ? texts.refuse.done : texts.allow.done}.</p>`
      : '<p>Nothing to decide here.</p>',
  );
}
