import { z } from 'zod';
import { instant } from '../common/admin-list.js';

/** `?from=&to=`: ISO-8601 instants; both optional (the last 24 hours). */
export const StatsWindowQuery = z.strictObject({
  from: instant
    .meta({
      description: 'ISO-8601 instant, inclusive (default: 24 hours before `to`)',
      example: '2026-11-26T08:00:00Z',
    })
    .optional(),
  to: instant
    .meta({
      description: 'ISO-8601 instant, exclusive (default: now); at most 366 days after `from`',
      example: '2026-11-27T08:00:00Z',
    })
    .optional(),
});
export type StatsWindowQuery = z.output<typeof StatsWindowQuery>;
