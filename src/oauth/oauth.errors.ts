import { AppError } from '../common/index.js';

type OAuthCode = 'oauth.provider_disabled' | 'oauth.state_invalid' | 'oauth.code_invalid' | 'oauth.upstream';

const MESSAGES: Record<OAuthCode, string> = {
  'oauth.provider_disabled': 'This sign-in provider is not available here.',
  'oauth.state_invalid':
    'This sign-in link is not valid any more (used, expired or from another browser); start again.',
  'oauth.code_invalid': 'The sign-in was not approved on the provider’s side; start again.',
  'oauth.upstream': 'The sign-in provider failed or did not answer; try again later.',
};

/** A third-party sign-in error; its code maps to HTTP through ERROR_STATUS. A message may say more than the table's. */
export class OAuthError extends AppError<OAuthCode> {
  constructor(code: OAuthCode, message: string = MESSAGES[code]) {
    super(code, message);
  }
}
