import { AppError } from '../common/index.js';

type AuthCode =
  | 'auth.unauthenticated'
  | 'auth.forbidden'
  | 'auth.invalid_credentials'
  | 'auth.account_disabled'
  | 'auth.refresh_reused'
  | 'auth.reauth_required'
  | 'auth.device_signature_invalid';

const MESSAGES: Record<AuthCode, string> = {
  'auth.unauthenticated': 'Sign in again: the credential is missing, expired or revoked.',
  'auth.forbidden': 'You are not allowed to do this.',
  'auth.invalid_credentials': 'The login or the password is wrong.',
  'auth.account_disabled': 'This account is disabled.',
  'auth.refresh_reused': 'This refresh token was already used: the session has been signed out for safety.',
  'auth.reauth_required': 'Confirm your password first (POST /api/v1/auth/reauth).',
  'auth.device_signature_invalid': 'The device signature is missing or wrong.',
};

/** An authentication or authorization error; its code maps to HTTP through ERROR_STATUS. A message may say more than the table's. */
export class AuthError extends AppError<AuthCode> {
  constructor(code: AuthCode, message: string = MESSAGES[code]) {
    super(code, message);
  }
}
