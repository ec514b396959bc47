// Prints plain closing lines after Jest's own summary, for CI readers that look
// for them: the time each tier took (the sum of its files' run times: with two
// files at a time the tiers add up to about twice the whole run's wall-clock
// time, which is printed last), then e.g. "tests: 214 passed, 0 failed, 3 skipped".
// A file that failed outside any test (a failed set-up, an import error) counts
// as one failure of its own; a failed test counts once.
export default class SummaryReporter {
  tiers = new Map();
  failedOutsideTests = 0;

  onTestResult(test, result) {
    const tier = test.context.config.displayName?.name ?? 'tests';
    const entry = this.tiers.get(tier) ?? { files: 0, ms: 0 };
    entry.files += 1;
    entry.ms += Math.max(0, result.perfStats.end - result.perfStats.start);
    this.tiers.set(tier, entry);
    if ((result.testExecError || result.failureMessage) && result.numFailingTests === 0) this.failedOutsideTests += 1;
  }

  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const seconds = (ms) => `${Math.round(ms / 1000)} s`;
    const tiers = [...this.tiers].map(([tier, { files, ms }]) => `${tier} ${seconds(ms)} (${files} files)`).join(', ');
    const whole = Date.now() - results.startTime;
    if (tiers)
      process.stdout.write(`\ntime per tier (file time): ${tiers}; whole run ${seconds(whole)} (wall clock)\n`);
    process.stdout.write(
      `\ntests: ${results.numPassedTests} passed, ${results.numFailedTests + this.failedOutsideTests} failed, ${skipped} skipped\n`,
    );
  }
}
