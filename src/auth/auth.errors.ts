import { AppError } from '../common/index.js';

export class UnauthenticatedError extends AppError<'auth.unauthenticated'> {
  constructor(message = 'Sign in again: the credential is missing, expired or revoked.') {
    super('auth.unauthenticated', message);
  }
}

export class ForbiddenError extends AppError<'auth.forbidden'> {
  constructor(message = 'You are not allowed to do this.') {
    super('auth.forbidden', message);
  }
}

export class InvalidCredentialsError extends AppError<'auth.invalid_credentials'> {
  constructor() {
    super('auth.invalid_credentials', 'The login or the password is wrong.');
  }
}

export class AccountDisabledError extends AppError<'auth.account_disabled'> {
  constructor() {
    super('auth.account_disabled', 'This account is disabled.');
  }
}

export class RefreshReusedError extends AppError<'auth.refresh_reused'> {
  constructor() {
    super('auth.refresh_reused', 'This refresh token was already used: the session has been signed out for safety.');
  }
}

export class ReauthRequiredError extends AppError<'auth.reauth_required'> {
  constructor() {
    super('auth.reauth_required', 'Confirm your password first (POST /api/v1/auth/reauth).');
  }
}
