import { ConfigError } from '../../config/index.js';

/**
 * Runs a command-line entry point: its result is the exit code; a bad
 * configuration or a failure prints one line (never a stack trace) and exits 1.
 */
export function runCli(name: string, main: () => Promise<number>): void {
  main()
    .then((code) => process.exit(code))
    .catch((error: unknown) => {
      console.error(
        error instanceof ConfigError
          ? error.message
          : `${name}: ${error instanceof Error ? error.message : String(error)}`,
      );
      process.exit(1);
    });
}
