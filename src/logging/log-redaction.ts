/**
 * What never reaches a log: credential headers, secret body fields and secret
 * query parameters. Used by the HTTP logger (`logging.module.ts`) and tested by
 * `test/e2e/logging.e2e-spec.ts`, which sends each of them and scans the log.
 */

/** Headers whose values are credentials. */
const SECRET_HEADERS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-poll-token',
  'x-device-signature',
];

/**
 * Field names that hold secrets wherever they appear in a logged object. (`code`
 * and `state` are not here: request bodies and queries are never logged as
 * objects, URLs go through `redactUrl`, and `err.code` must stay readable.)
 */
const SECRET_FIELDS = [
  'password',
  'currentPassword',
  'newPassword',
  'token',
  'accessToken',
  'refreshToken',
  'pollToken',
  'idToken',
  'secret',
  'clientSecret',
  'appSecret',
  'privateKey',
  'authCode',
  'auth_code',
];

/** Query parameters that carry one-time codes or OAuth state (lower-cased). */
const SECRET_QUERY_PARAMS = new Set([
  'code',
  'auth_code',
  'authcode',
  'app_auth_code',
  'state',
  'token',
  'access_token',
  'refresh_token',
  'polltoken',
  'ticket',
  'logintmpcode',
  // WeChat's code exchange carries the AppSecret in its query (seen when the sandbox serves it).
  'secret',
  'appsecret',
  'client_secret',
  'sign',
  // A password form submitted without its script (GET by accident) must not log the password.
  'password',
]);

export const REDACTED = '[Redacted]';

/** pino `redact` paths: the secret headers and fields, up to three levels deep. */
export function redactPaths(): string[] {
  const headers = SECRET_HEADERS.flatMap((h) => [`req.headers["${h}"]`, `res.headers["${h}"]`]);
  const fields = SECRET_FIELDS.flatMap((f) => [`${f}`, `*.${f}`, `*.*.${f}`]);
  return [...headers, ...fields];
}

/** The URL with the value of every secret query parameter replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawName = eq < 0 ? pair : pair.slice(0, eq);
      let name: string;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' ')).toLowerCase();
      } catch {
        name = rawName.toLowerCase();
      }
      return SECRET_QUERY_PARAMS.has(name) && eq >= 0 ? `${rawName}=${REDACTED}` : pair;
    })
    .join('&');
  return `${url.slice(0, q)}?${query}`;
}
