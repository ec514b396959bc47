import { Logger } from '@nestjs/common';
import type { Logger as TypeOrmLoggerContract } from 'typeorm';
import { UNIQUE_VIOLATION } from './query-results.js';

/**
 * Routes TypeORM's messages to the application log. Query parameters are never
 * logged: they can hold token hashes, codes or personal data.
 */
export class TypeOrmLogger implements TypeOrmLoggerContract {
  private readonly logger = new Logger('Database');

  logQuery(): void {}

  logQueryError(error: string | Error, query: string): void {
    const message = typeof error === 'string' ? error : error.message;
    // A unique violation is an expected answer (a taken login, a lost race), handled by its caller.
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
      this.logger.debug(`Query refused (unique violation): ${truncate(query)}`);
      return;
    }
    this.logger.error(`Query failed: ${message} (${truncate(query)})`);
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn(`Slow query (${time} ms): ${truncate(query)}`);
  }

  logSchemaBuild(message: string): void {
    this.logger.verbose(message);
  }

  logMigration(message: string): void {
    this.logger.verbose(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
    else this.logger.log(String(message));
  }
}

function truncate(query: string): string {
  const flat = query.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}
