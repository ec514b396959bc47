// Prints plain closing lines after Jest's own summary, for CI readers that look
// for them: the time each tier took (the sum of its files' run times; files run
// one at a time, so the tiers add up to the whole), then e.g.
// "tests: 214 passed, 0 failed, 3 skipped".
export default class SummaryReporter {
  tiers = new Map();

  onTestResult(test, result) {
    const tier = test.context.config.displayName?.name ?? 'tests';
    const entry = this.tiers.get(tier) ?? { files: 0, ms: 0 };
    entry.files += 1;
    entry.ms += Math.max(0, result.perfStats.end - result.perfStats.start);
    this.tiers.set(tier, entry);
  }

  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failedSuites = results.numFailedTestSuites + results.numRuntimeErrorTestSuites;
    const seconds = (ms) => `${Math.round(ms / 1000)} s`;
    const tiers = [...this.tiers].map(([tier, { files, ms }]) => `${tier} ${seconds(ms)} (${files} files)`).join(', ');
    const whole = Date.now() - results.startTime;
    if (tiers) process.stdout.write(`\ntime per tier: ${tiers}; whole run ${seconds(whole)}\n`);
    process.stdout.write(
      `\ntests: ${results.numPassedTests} passed, ${results.numFailedTests + failedSuites} failed, ${skipped} skipped\n`,
    );
  }
}
