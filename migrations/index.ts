import type { MigrationInterface } from 'typeorm';
import { CreatedAccounts1795728450348 } from './1795728450348-CreatedAccounts.js';
import { AdminSearchAndListing1795750000000 } from './1795750000000-AdminSearchAndListing.js';
import { FreshCredentials1796000000000 } from './1796000000000-FreshCredentials.js';

/**
 * Every migration, oldest first. `npm run migration:generate -- <Name>` writes a
 * new file beside this one and appends it here; a test checks that every file
 * in this folder is listed (an unlisted migration would silently never run).
 */
export const migrations: Array<new () => MigrationInterface> = [
  CreatedAccounts1795728450348,
  AdminSearchAndListing1795750000000,
  FreshCredentials1796000000000,
];
