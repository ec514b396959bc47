import { Inject, Injectable } from '@nestjs/common';
import { ValidationError } from '../../common/index.js';
import { decodeCursor, pageOf, type Page } from '../common/admin-list.js';
import {
  AuditEventDirectory,
  AT_KEY_PATTERN,
  type AuditEventRow,
  type AuditEventsFilter,
  type AuditKey,
} from '../../audit/index.js';
import type { AuditEventsQuery, AuditEventView } from './admin-audit-events.schemas.js';

/** The one order of the audit list (newest first); a cursor made for any other order is refused. */
const AUDIT_SORT = '-at';

/** Rows per query of the NDJSON export (a provider, so tests can make batches small): memory stays flat whatever the size of the set. */
export const AUDIT_EXPORT_BATCH = Symbol('AUDIT_EXPORT_BATCH');
export const DEFAULT_AUDIT_EXPORT_BATCH = 1_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function auditEventView(row: AuditEventRow): AuditEventView {
  return {
    id: row.id,
    type: row.type,
    at: row.at.toISOString(),
    actorId: row.actor_id,
    userId: row.user_id,
    sessionId: row.session_id,
    ip: row.ip,
    userAgent: row.user_agent,
    detail: row.detail,
  };
}

const keyOf = (row: AuditEventRow) => [row.at_key, row.id];

/** Audit events for operators: filtered keyset pages, and the whole filtered set as batches. */
@Injectable()
export class AdminAuditEventsService {
  constructor(
    private readonly events: AuditEventDirectory,
    @Inject(AUDIT_EXPORT_BATCH) private readonly exportBatch: number,
  ) {}

  async list(query: AuditEventsQuery): Promise<Page<AuditEventView>> {
    const after = positionOf(query.cursor);
    const rows = await this.events.page(filterOf(query), after, query.limit + 1);
    return pageOf(rows, query.limit, AUDIT_SORT, keyOf, auditEventView);
  }

  /**
   * Every event matching the filters (`limit` and `cursor` do not apply), newest
   * first, one keyset query of `exportBatch` rows at a time. Rows written while
   * it runs are newer than its start and so never shift it. Stop iterating (a
   * client that went away) and no further query runs.
   */
  async *export(query: AuditEventsQuery): AsyncGenerator<AuditEventView[]> {
    const filter = filterOf(query);
    let after: AuditKey | null = null;
    for (;;) {
      const rows = await this.events.page(filter, after, this.exportBatch);
      if (rows.length > 0) yield rows.map(auditEventView);
      if (rows.length < this.exportBatch) return;
      const last = rows.at(-1)!;
      after = { at: last.at_key, id: last.id };
    }
  }
}

function filterOf(query: AuditEventsQuery): AuditEventsFilter {
  const { userId, type, ip, from, to } = query;
  return { userId, type, ip, from, to };
}

/** The position a cursor of this list holds; anything else is `validation.failed` on `cursor`. */
function positionOf(cursor: string | undefined): AuditKey | null {
  const key = decodeCursor(cursor, AUDIT_SORT, 2);
  if (key === null) return null;
  const [at, id] = key as [string, string];
  if (!AT_KEY_PATTERN.test(at) || !isRealInstant(at) || !UUID.test(id)) {
    throw new ValidationError([{ path: 'cursor', message: 'is not a cursor from this API' }]);
  }
  return { at, id };
}

/** `2026-02-31T…` has the right shape but would make Postgres fail: the date must survive a round trip. */
function isRealInstant(atKey: string): boolean {
  if (atKey.startsWith('0000')) return false; // no year 0 in Postgres
  const millis = `${atKey.slice(0, 23)}Z`;
  const parsed = new Date(millis);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString() === millis;
}
