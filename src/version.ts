/** The release; `src/version.spec.ts` keeps it equal to package.json's. */
export const VERSION = '0.1.0';
