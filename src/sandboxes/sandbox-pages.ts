/** Minimal pages of the sandboxes: no script, no other host, escaped text. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:2rem auto;padding:0 1rem;text-align:center}.error{color:#b00020}button{font-size:1rem;padding:.5rem 1rem;margin:.25rem}</style>
</head><body><h1>${escapeHtml(title)}</h1><p><small>Provider sandbox: not the real platform.</small></p>${body}</body></html>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
