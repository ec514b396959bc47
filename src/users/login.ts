/** Logins are compared and stored normalised: NFKC, trimmed, lower case. */
export function normalizeLogin(login: string): string {
  return login.normalize('NFKC').trim().toLowerCase();
}

/** Letters, digits and `._@+-`, 3 to 64 characters once normalised. */
export const LOGIN_PATTERN = /^[\p{L}\p{N}._@+-]{3,64}$/u;
