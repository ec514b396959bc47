import type { AppConfig } from '../../config/index.js';

/**
 * Where a flow may send the browser afterwards: a path on this site (not
 * `//host`, no backslash, no whitespace), or a URL on the public origin or an
 * allowed CORS origin. Null for anything else (no open redirect).
 */
export function safeReturnTo(value: unknown, app: Pick<AppConfig, 'publicUrl' | 'corsOrigins'>): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2_048) return null;
  if (/^\/(?![/\\])[^\s\\]*$/.test(value)) return value;
  try {
    const url = new URL(value);
    if ([app.publicUrl, ...app.corsOrigins].includes(url.origin)) return url.toString();
  } catch {
    // not a URL
  }
  return null;
}
