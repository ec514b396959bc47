/** The public face of `rate-limit/`: what other modules may import (anything else is internal). */
export { RateLimitModule } from './rate-limit.module.js';
export { RateLimitedError } from './rate-limit.errors.js';
export { RateLimitGuard, type RateLimitRule, RateLimiter } from './rate-limiter.js';
