import { AppError } from '../common/index.js';

/** The shared store (Redis) cannot be reached or did not answer in time; nothing was written. */
export class StoreUnavailableError extends AppError<'store.unavailable'> {
  constructor(message = 'The service is temporarily unavailable; try again shortly.') {
    super('store.unavailable', message);
  }
}
