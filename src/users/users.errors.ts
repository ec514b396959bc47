import { AppError } from '../common/index.js';

type UsersCode = 'conflict' | 'identity.last_method' | 'oauth.identity_conflict';

const MESSAGES: Record<UsersCode, string> = {
  conflict: 'This login is already taken.',
  'identity.last_method': 'This is the last way to sign in to the account; add another before removing it.',
  'oauth.identity_conflict': 'That account is already linked to another user.',
};

/** A users-and-identities error; its code maps to HTTP through ERROR_STATUS. */
export class UsersError extends AppError<UsersCode> {
  constructor(code: UsersCode) {
    super(code, MESSAGES[code], code === 'conflict' ? [{ path: 'login', message: 'already taken' }] : undefined);
  }
}
