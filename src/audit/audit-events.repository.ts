import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** One audit row as written (see AuditEvent for the columns). */
export interface AuditRowInput {
  type: string;
  at: Date;
  actorId: string | null;
  userId: string | null;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
  detail: Record<string, unknown>;
}

const COLUMNS = ['type', 'at', 'actor_id', 'user_id', 'session_id', 'ip', 'user_agent', 'detail'] as const;

/** The audit trail's table: rows are only ever appended. */
@Injectable()
export class AuditEventsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Appends `rows` in one statement (one round trip, one commit, whatever their number). */
  async insertMany(rows: AuditRowInput[]): Promise<void> {
    if (rows.length === 0) return;
    const params: unknown[] = [];
    const tuples = rows.map((row) => {
      const values = [
        row.type,
        row.at,
        row.actorId,
        row.userId,
        row.sessionId,
        row.ip,
        row.userAgent,
        JSON.stringify(row.detail),
      ];
      const placeholders = values.map((value) => `$${params.push(value)}`);
      return `(${placeholders.join(', ')})`;
    });
    await this.dataSource.query(`INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`, params);
  }
}
