import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../support/fake-clock.js';
import type { AuditEventsRepository, AuditRowInput } from '../../../src/audit/audit-events.repository.js';
import { AuditService } from '../../../src/audit/audit.service.js';

/** A table that holds each INSERT until the test lets it finish (or fail). */
class HeldTable {
  readonly statements: AuditRowInput[][] = [];
  readonly rows: AuditRowInput[] = [];
  private release: Array<(error?: Error) => void> = [];
  /** Rows of this type are refused, as a constraint violation would be. */
  refuseType: string | null = null;

  insertMany = (rows: AuditRowInput[]): Promise<void> => {
    this.statements.push(rows);
    return new Promise((done, fail) =>
      this.release.push((error) => {
        if (error) return fail(error);
        if (rows.some((r) => r.type === this.refuseType)) return fail(new Error('violates check constraint'));
        this.rows.push(...rows);
        done();
      }),
    );
  };

  /** Lets every statement issued so far finish. */
  async finishAll(): Promise<void> {
    while (this.release.length > 0) {
      this.release.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  }
}

function build() {
  const table = new HeldTable();
  const service = new AuditService(table as unknown as AuditEventsRepository, new FakeClock());
  return { table, service };
}

describe('AuditService (group writing)', () => {
  it('writes an event at once when no write is in flight', async () => {
    const { table, service } = build();
    const written = service.record({ type: 'qr.created', ip: '198.51.100.7' });
    expect(table.statements).toHaveLength(1);
    await table.finishAll();
    await written;
    expect(table.rows).toEqual([
      expect.objectContaining({ type: 'qr.created', ip: '198.51.100.7', actorId: null, detail: {} }),
    ]);
  });

  it('puts events recorded during a write into one next statement, and resolves each caller only once its row is written', async () => {
    const { table, service } = build();
    const first = service.record({ type: 'qr.created' });
    let laterDone = 0;
    const later = Array.from({ length: 5 }, (_, i) =>
      service.record({ type: 'qr.scanned', detail: { i } }).then(() => laterDone++),
    );
    expect(table.statements).toHaveLength(1);
    expect(service.queued).toBe(5);

    await table.finishAll();
    await first;
    await Promise.all(later);
    expect(table.statements.map((s) => s.length)).toEqual([1, 5]);
    expect(laterDone).toBe(5);
    expect(table.rows.map((r) => r.detail['i'])).toEqual([undefined, 0, 1, 2, 3, 4]);
  });

  it('fails only the caller whose row is refused: a failed batch is retried row by row', async () => {
    const { table, service } = build();
    table.refuseType = 'user.updated';
    const first = service.record({ type: 'qr.created' });
    const good1 = service.record({ type: 'qr.scanned' });
    const bad = service.record({ type: 'user.updated' });
    const good2 = service.record({ type: 'qr.confirmed' });
    const outcomes = Promise.allSettled([first, good1, bad, good2]);
    // The batch of three fails, then each of its rows goes alone.
    for (let i = 0; i < 6; i++) await table.finishAll();
    expect((await outcomes).map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(table.rows.map((r) => r.type)).toEqual(['qr.created', 'qr.scanned', 'qr.confirmed']);
  });

  it('writes again after an idle spell, and shutdown waits for events still queued', async () => {
    const { table, service } = build();
    await Promise.all([service.record({ type: 'qr.created' }), table.finishAll()]);
    const late = service.record({ type: 'qr.expired' });
    const queued = service.record({ type: 'qr.expired' });
    let shutDown = false;
    const shutdown = service.beforeApplicationShutdown().then(() => (shutDown = true));
    await new Promise((r) => setImmediate(r));
    expect(shutDown).toBe(false);
    await table.finishAll();
    await Promise.all([late, queued, shutdown]);
    expect(table.rows).toHaveLength(3);
  });

  it('keeps at most 512 characters of a user agent', async () => {
    const { table, service } = build();
    const written = service.record({ type: 'auth.login_succeeded', userAgent: 'x'.repeat(2_000) });
    await table.finishAll();
    await written;
    expect(table.rows[0]!.userAgent).toHaveLength(512);
  });
});
