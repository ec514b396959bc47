import type { ErrorDetail as WireErrorDetail, ErrorEnvelope as WireErrorEnvelope } from '@scangate/protocol';

/**
 * Every error code of the public contract (PROTOCOL.md § Errors) with its HTTP
 * status: the one place where a code is mapped to HTTP (and, later, to the socket).
 */
export const ERROR_STATUS = {
  'validation.failed': 400,
  'auth.unauthenticated': 401,
  'auth.forbidden': 403,
  'auth.invalid_credentials': 401,
  'auth.refresh_reused': 401,
  'auth.account_disabled': 403,
  'auth.reauth_required': 401,
  'auth.device_signature_invalid': 401,
  rate_limited: 429,
  'qr.not_found': 404,
  'qr.expired': 410,
  'qr.already_scanned': 409,
  'qr.wrong_state': 409,
  'qr.not_scanner': 403,
  'qr.match_mismatch': 400,
  'qr.consumed': 410,
  'oauth.provider_disabled': 404,
  'oauth.state_invalid': 400,
  'oauth.code_invalid': 401,
  'oauth.upstream': 502,
  'oauth.identity_conflict': 409,
  'identity.last_method': 409,
  'store.unavailable': 503,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  internal: 500,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** One field-level problem of a `validation.failed` error. */
export type ErrorDetail = WireErrorDetail;

/** The envelope every error has, on every route (PROTOCOL.md § Errors): the protocol's error body, its code narrowed to the server's table. */
export interface ErrorEnvelope extends WireErrorEnvelope {
  code: ErrorCode;
}
