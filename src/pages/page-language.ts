import type { Request, Response } from 'express';
import { readCookie } from '../common/http/cookies.js';
import type { PageLanguage } from './i18n/messages.js';

const LANGUAGE_COOKIE = 'sg_lang';
const LANGUAGES: readonly PageLanguage[] = ['en', 'zh-CN'];

function known(value: unknown): PageLanguage | null {
  return LANGUAGES.includes(value as PageLanguage) ? (value as PageLanguage) : null;
}

/**
 * The page's language: `?lang=` (remembered in a cookie), else the cookie,
 * else `Accept-Language` (any `zh` → zh-CN), else English.
 */
export function pageLanguage(req: Request, res: Response, secure: boolean): PageLanguage {
  const chosen = known(req.query.lang);
  if (chosen) {
    res.cookie(LANGUAGE_COOKIE, chosen, { path: '/', sameSite: 'lax', secure, httpOnly: true, maxAge: 365 * 86_400_000 });
    return chosen;
  }
  const remembered = known(readCookie(req, LANGUAGE_COOKIE));
  if (remembered) return remembered;
  const accepted = req.acceptsLanguages('en', 'zh-CN', 'zh', 'zh-Hans', 'zh-TW', 'zh-HK');
  return typeof accepted === 'string' && accepted.startsWith('zh') ? 'zh-CN' : 'en';
}

/** The current URL with `lang` set, other query parameters kept (the language switch). */
export function withLanguage(req: Request, language: PageLanguage): string {
  const url = new URL(req.originalUrl, 'http://page.invalid');
  url.searchParams.set('lang', language);
  return `${url.pathname}${url.search}`;
}
