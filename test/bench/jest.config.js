// `npm run bench`: the benchmarks under test/bench, with the e2e project's
// transform and setup. Kept out of the root config's projects, so `npm test`
// never runs them.
import root from '../../jest.config.js';

const e2e = { ...root.projects.find((p) => p.displayName === 'e2e') };
delete e2e.displayName;
delete e2e.testMatch;

/** @type {import('jest').Config} */
export default {
  ...e2e,
  rootDir: '../..',
  testMatch: ['<rootDir>/test/bench/**/*.bench.ts'],
  maxWorkers: 1,
  testTimeout: 120_000,
};
