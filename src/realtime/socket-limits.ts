import type { RealtimeConfig } from '../config/index.js';
import type { RateLimitRule } from '../rate-limit/index.js';

/** Socket connections per client IP per minute, both namespaces together, over every instance. */
export function socketConnectLimit(config: RealtimeConfig, ip: string): Omit<RateLimitRule, 'key'> & { key: string } {
  return { name: 'socket-connect', windowMs: 60_000, limit: config.connectLimitPerIpPerMinute, key: ip };
}
