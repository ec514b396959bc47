import { AppError } from '../common/index.js';

/**
 * The instance should get no traffic: a dependency is down, or it is shutting
 * down. 503 `store.unavailable`, each reason a detail (`database: down`).
 */
export class NotReadyError extends AppError<'store.unavailable'> {
  static shuttingDown(): NotReadyError {
    return new NotReadyError('Not ready: the instance is shutting down.', [
      { path: 'instance', message: 'shutting down' },
    ]);
  }

  static down(dependencies: string[]): NotReadyError {
    return new NotReadyError(
      `Not ready: ${dependencies.join(' and ') || 'a dependency'} ${dependencies.length > 1 ? 'are' : 'is'} down.`,
      dependencies.map((path) => ({ path, message: 'down' })),
    );
  }

  private constructor(message: string, details: Array<{ path: string; message: string }>) {
    super('store.unavailable', message, details);
  }
}
