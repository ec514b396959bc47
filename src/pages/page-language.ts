import type { Request, Response } from 'express';
import { readCookie } from '../common/index.js';
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
    res.cookie(LANGUAGE_COOKIE, chosen, {
      path: '/',
      sameSite: 'lax',
      secure,
      httpOnly: true,
      maxAge: 365 * 86_400_000,
    });
    return chosen;
  }
  const remembered = known(readCookie(req, LANGUAGE_COOKIE));
  if (remembered) return remembered;
  const accepted = req.acceptsLanguages('en', 'zh-CN', 'zh', 'zh-Hans', 'zh-TW', 'zh-HK');
  return typeof accepted === 'string' && accepted.startsWith('zh') ? 'zh-CN' : 'en';
}

/** Query parameters the language switch carries over (nothing else: never a stray secret). */
const KEPT = ['returnTo', 'error'];

/** The current page with `lang` set, keeping `returnTo` and `error` (the language switch). */
export function withLanguage(req: Request, language: PageLanguage): string {
  const url = new URL(req.originalUrl, 'http://page.invalid');
  const query = new URLSearchParams();
  for (const name of KEPT) {
    const value = url.searchParams.get(name);
    if (value !== null) query.set(name, value);
  }
  query.set('lang', language);
  return `${url.pathname}?${query}`;
}
