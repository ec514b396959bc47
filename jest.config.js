// Jest under native ESM (NestJS 12 is ESM-only): run through
// `node --experimental-vm-modules`, TypeScript compiled by @swc/jest with
// decorator metadata (without it constructor injection silently gets undefined).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
      target: 'es2022',
    },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': swc },
  testEnvironment: '<rootDir>/test/setup/guarded.environment.js',
  setupFiles: ['<rootDir>/test/setup/env.ts'],
};

/** @type {import('jest').Config} */
export default {
  // Three workers on the 2-core reference machine: a worker spends much of a
  // file waiting (on Postgres, Redis, child processes, Chromium), and the third
  // fills those waits (402 s against 456 s for two, back to back). Suites never
  // share a database, a key prefix or a port (each takes a fresh database, a
  // random prefix and free ports), so they may run side by side; `-i` runs
  // them one at a time. The JEST_WORKERS variable overrides the count.
  maxWorkers: Number(process.env.JEST_WORKERS ?? 3),
  // In a worker process, replaced once it holds this much after a file: every
  // file re-imports the app under Jest's VM modules, and a single process that
  // kept them all grew to gigabytes and slowed every later suite. A worker
  // that does not exit at the end is also ended by Jest, so a handle left open
  // by a failed set-up cannot keep `npm test` from finishing.
  workerIdleMemoryLimit: '1GB',
  // Generous: a busy 2-core machine must not fail a test on time alone.
  testTimeout: 120_000,
  reporters: ['default', '<rootDir>/test/setup/summary.reporter.js'],
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/test/unit/**/*.spec.ts',
        '<rootDir>/packages/*/src/**/*.spec.ts',
        '<rootDir>/test/tooling/**/*.spec.ts',
      ],
    },
    { ...common, displayName: 'slice', testMatch: ['<rootDir>/test/slice/**/*.slice-spec.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
  ],
};
