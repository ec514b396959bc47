import { AppError } from '../common/index.js';

/** A login that is already taken. */
export class LoginTakenError extends AppError<'conflict'> {
  constructor() {
    super('conflict', 'This login is already taken.', [{ path: 'login', message: 'already taken' }]);
  }
}

export class IdentityLastMethodError extends AppError<'identity.last_method'> {
  constructor() {
    super('identity.last_method', 'This is the last way to sign in to the account; add another before removing it.');
  }
}
