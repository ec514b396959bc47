import type { AccessTokenClaims, Principal } from '../auth.principal.js';

/** No access token may live longer than this (PROTOCOL.md: at most 15 minutes). */
const MAX_ACCESS_TOKEN_TTL_SECONDS = 900;

/**
 * The principal of claims whose signature, `iss`, `aud` and `exp` were
 * verified; null when a claim is missing or wrong. jsonwebtoken checks `exp`
 * only when present: a token without one would never expire, so it is required.
 */
export function principalOf(claims: AccessTokenClaims): Principal | null {
  if (
    typeof claims.sid !== 'string' ||
    typeof claims.sub !== 'string' ||
    !Array.isArray(claims.roles) ||
    typeof claims.exp !== 'number' ||
    typeof claims.iat !== 'number' ||
    claims.exp - claims.iat > MAX_ACCESS_TOKEN_TTL_SECONDS
  ) {
    return null;
  }
  return {
    userId: claims.sub,
    sessionId: claims.sid,
    kind: claims.knd,
    deviceId: claims.did ?? null,
    roles: claims.roles,
    amr: claims.amr ?? [],
  };
}

/** The JOSE header of a compact JWT, unverified; null when it is not one. */
export function decodeHeader(token: string): Record<string, unknown> | null {
  const [encoded] = token.split('.');
  if (!encoded) return null;
  try {
    const header: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    return header && typeof header === 'object' ? (header as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Whether a header is that of one of our access tokens: ES256, `at+jwt`, with a `kid`. */
export function isAccessTokenHeader(
  header: Record<string, unknown> | null,
): header is { alg: 'ES256'; typ: 'at+jwt'; kid: string } {
  return !!header && header.alg === 'ES256' && header.typ === 'at+jwt' && typeof header.kid === 'string';
}
