import { Logger } from '@nestjs/common';

// Runs before every test file. Tests never read the developer's `.env`: each
// builds its configuration explicitly (test/support/test-config.ts).
process.env.TZ = 'UTC';
// Outside an app (no pino), Nest's console logger would print every
// migration step; tests that care about logs capture the app's JSON log.
Logger.overrideLogger(['error', 'warn']);
