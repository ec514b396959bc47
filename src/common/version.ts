/** The release; `version.spec.ts` beside it keeps it equal to package.json's. */
export const VERSION = '0.2.0';
