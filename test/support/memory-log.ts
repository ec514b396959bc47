import { Writable } from 'node:stream';

/** A log destination that keeps every line, for assertions on what was logged. */
export class MemoryLog extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }

  get text(): string {
    return this.lines.join('\n');
  }

  entries(): Array<Record<string, unknown>> {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /**
   * The first entry matching `predicate`, waiting for it: a request's log line
   * is written when the response finishes, which can be after the client has it.
   */
  async waitFor(
    predicate: (entry: Record<string, unknown>) => boolean,
    timeoutMs = 2_000,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.entries().find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error('no matching log entry');
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
