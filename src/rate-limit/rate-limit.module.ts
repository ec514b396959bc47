import { Global, Module } from '@nestjs/common';
import { RateLimiter } from './rate-limiter.js';

/** Rate limits on the shared store, for any feature's routes. */
@Global()
@Module({ providers: [RateLimiter], exports: [RateLimiter] })
export class RateLimitModule {}
