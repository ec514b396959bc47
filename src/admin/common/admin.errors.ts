import { AppError } from '../../common/index.js';

type AdminCode = 'precondition_failed';

const MESSAGES: Record<AdminCode, string> = {
  precondition_failed: 'This resource changed since you read it: reload it and apply your change again.',
};

/** An admin API error of its own (others come from the owners: auth, users, qr-login); its code maps to HTTP through ERROR_STATUS. */
export class AdminError extends AppError<AdminCode> {
  constructor(code: AdminCode, message: string = MESSAGES[code]) {
    super(code, message);
  }
}
