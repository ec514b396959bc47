/** The public face of `common/`: what other modules may import (anything else is internal). */
export { runCli } from './cli/run-cli.js';
export { Clock, SystemClock } from './clock/clock.js';
export { ClockModule } from './clock/clock.module.js';
export { CryptoModule } from './crypto/crypto.module.js';
export { CryptoService } from './crypto/crypto.service.js';
export { AllExceptionsFilter, errorEnvelope } from './errors/all-exceptions.filter.js';
export { AppError, NotFoundError, ValidationError } from './errors/app-error.js';
export type { ErrorDetail, ErrorEnvelope } from './errors/error-codes.js';
export { ApiErrors, ApiZodBody } from './http/api-docs.js';
export { answerClientErrors } from './http/client-errors.js';
export { readCookie } from './http/cookies.js';
export { escapeHtml } from './http/html.js';
export { jsonOnlyMiddleware, noStoreMiddleware } from './http/http.middleware.js';
export { ParseIdPipe } from './http/parse-id.pipe.js';
export { safeReturnTo } from './http/return-to.js';
export { createValidationPipe } from './http/validation.pipe.js';
export { LocalSecrets } from './secrets/local-secret.js';
export { VERSION } from './version.js';
