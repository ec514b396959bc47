import { escapeHtml } from '../../common/index.js';
import type { Messages, PageLanguage } from '../i18n/messages.js';

export interface LayoutInput {
  language: PageLanguage;
  messages: Messages;
  title: string;
  /** The page's script under /assets (no inline script anywhere: CSP `script-src 'self'`). */
  script: 'login' | 'phone';
  /** Data for the script, as `data-*` attributes of `<body>` (escaped here). */
  data?: Record<string, string | null>;
  /** The same page in each language (the switch). */
  languageLinks: Record<PageLanguage, string>;
  body: string;
}

const LANGUAGE_NAMES: Record<PageLanguage, string> = { en: 'English', 'zh-CN': '简体中文' };

/** The frame every page shares: head, the language switch, the main content. */
export function layout(input: LayoutInput): string {
  const data = Object.entries(input.data ?? {})
    .filter(([, value]) => value !== null)
    .map(([key, value]) => ` data-${key}="${escapeHtml(value!)}"`)
    .join('');
  const switcher = (Object.keys(LANGUAGE_NAMES) as PageLanguage[])
    .map((language) =>
      language === input.language
        ? `<a href="${escapeHtml(input.languageLinks[language])}" lang="${language}" aria-current="true">${LANGUAGE_NAMES[language]}</a>`
        : `<a href="${escapeHtml(input.languageLinks[language])}" lang="${language}" hreflang="${language}">${LANGUAGE_NAMES[language]}</a>`,
    )
    .join('');
  return `<!doctype html>
<html lang="${input.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(input.title)}</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/pages.css">
<script type="module" src="/assets/${input.script}.js"></script>
</head>
<body data-page="${input.script}"${data}>
<header class="topbar">
<span class="brand">ScanGate</span>
<nav class="languages" aria-label="${escapeHtml(input.messages['lang.label'])}">${switcher}</nav>
</header>
<main class="card">
${input.body}
</main>
</body>
</html>
`;
}
