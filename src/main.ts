// The configuration is validated before the application is loaded, so a bad
// setting fails in a fraction of a second, with one readable line.
import { ConfigError, loadConfig, type Config } from './config/index.js';

const startedAt = performance.now();

function fail(message: string): never {
  process.stderr.write(`scangate: ${message}\n`);
  process.exit(1);
}

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}

const { serve } = await import('./server.js');
await serve(config, startedAt, fail);
