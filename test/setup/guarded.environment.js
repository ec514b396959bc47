// The test environment (Node) with an open-handle guard: after each test file,
// once its own afterAll hooks ran, the sockets, servers and child processes it
// opened and left open are reported by name (with the file), so a set-up that
// failed half-way shows what it leaked. (A worker that still does not exit is
// ended by Jest: see workerIdleMemoryLimit in jest.config.js, so `npm test`
// always finishes.) Timers are left out: short ones end by themselves.
import NodeEnvironment from 'jest-environment-node';

const WATCHED = new Set(['TCPSocketWrap', 'TCPServerWrap', 'PipeWrap', 'PipeServerWrap', 'ProcessWrap', 'UDPWrap']);
const GRACE_MS = 200;

function open() {
  const counts = new Map();
  for (const name of process.getActiveResourcesInfo())
    if (WATCHED.has(name)) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

export default class GuardedEnvironment extends NodeEnvironment {
  constructor(config, context) {
    super(config, context);
    this.testPath = context.testPath;
    this.before = open();
  }

  async teardown() {
    await new Promise((resolve) => setTimeout(resolve, GRACE_MS));
    const left = [...open()]
      .map(([name, count]) => [name, count - (this.before.get(name) ?? 0)])
      .filter(([, extra]) => extra > 0);
    if (left.length > 0)
      process.stderr.write(
        `[open-handle guard] ${this.testPath} left open: ${left.map(([name, n]) => `${n} × ${name}`).join(', ')}\n`,
      );
    await super.teardown();
  }
}
