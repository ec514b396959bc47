import type { ErrorDetail } from '../common/index.js';

const PASSWORD_MIN_LENGTH = 10;
/** argon2 inputs beyond this are refused: long inputs only cost CPU. */
export const PASSWORD_MAX_LENGTH = 256;

/** Problems with a new password (empty when it is acceptable), as `validation.failed` details. */
export function passwordProblems(password: string, login: string | undefined, path = 'password'): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) {
    problems.push({ path, message: `must be at least ${PASSWORD_MIN_LENGTH} characters long` });
  }
  if (length > PASSWORD_MAX_LENGTH) {
    problems.push({ path, message: `must be at most ${PASSWORD_MAX_LENGTH} characters long` });
  }
  if (login && normalize(password) === normalize(login)) {
    problems.push({ path, message: 'must not be the login' });
  }
  return problems;
}

function normalize(value: string): string {
  return value.normalize('NFKC').trim().toLowerCase();
}
