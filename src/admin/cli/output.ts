import type { AuditEventView } from '../audit-events/admin-audit-events.schemas.js';
import type { userView } from '../../auth/index.js';

/**
 * How the admin CLI prints: aligned tables for people, one JSON object per
 * line (`--json`) for programs. Every text that came from the server (a display
 * name, an audit detail) is made safe for a terminal first: a user could have
 * put escape sequences into their own display name.
 */

export interface Writer {
  write(text: string): unknown;
}

/** Control characters (C0 except none, DEL, C1) shown as `\u001b`-style escapes, so nothing from the server drives the terminal. */
export function safeText(value: unknown): string {
  const text = value === null || value === undefined ? '-' : typeof value === 'string' ? value : JSON.stringify(value);
  return text.replace(
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Columns a string takes in a terminal: East Asian wide and fullwidth characters take two. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    width += isWide(code) ? 2 : 1;
  }
  return width;
}

function isWide(code: number): boolean {
  return (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0x303e) ||
    (code >= 0x3041 && code <= 0x33ff) ||
    (code >= 0x3400 && code <= 0x4dbf) ||
    (code >= 0x4e00 && code <= 0x9fff) ||
    (code >= 0xa000 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1f64f) ||
    (code >= 0x20000 && code <= 0x3fffd)
  );
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

/** An aligned table: a header row, then one row per record; the last column is not padded. */
export function table(headers: string[], rows: unknown[][]): string {
  const cells = rows.map((row) => row.map(safeText));
  const widths = headers.map((h, i) => Math.max(displayWidth(h), ...cells.map((row) => displayWidth(row[i] ?? ''))));
  const line = (row: string[]) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : pad(cell, widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n') + '\n';
}

/** One JSON object per line (`--json`). */
export function jsonLines(records: unknown[]): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join('');
}

/** A user as the admin API answers it (the server's own view; a type only, nothing of the server runs here). */
export type UserRecord = ReturnType<typeof userView>;

export const USER_HEADERS = ['ID', 'LOGIN', 'DISPLAY NAME', 'STATUS', 'ROLES', 'CREATED'];
export const userRow = (u: UserRecord): unknown[] => [
  u.id,
  u.login,
  u.displayName,
  u.status,
  Array.isArray(u.roles) ? u.roles.join(',') : u.roles,
  u.createdAt,
];

/** An audit event as the admin API answers it. */
export type AuditRecord = AuditEventView;

/** One audit event on one line (a stream has no table to align to). */
export function auditLine(e: AuditRecord): string {
  const parts = [safeText(e.at), safeText(e.type), `actor=${safeText(e.actorId)}`, `user=${safeText(e.userId)}`];
  if (e.sessionId) parts.push(`session=${safeText(e.sessionId)}`);
  parts.push(`ip=${safeText(e.ip)}`);
  if (e.detail && Object.keys(e.detail).length > 0) parts.push(safeText(e.detail));
  return `${parts.join('  ')}\n`;
}
