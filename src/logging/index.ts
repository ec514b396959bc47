/** The public face of `logging/`: what other modules may import (anything else is internal). */
export { AppLogger } from './app.logger.js';
export { LoggingModule } from './logging.module.js';
export { requestIdMiddleware, requestIdOf } from './request-id.js';
