import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A Lua script run with `EVALSHA`, falling back to `EVAL` when the server does
 * not know it yet (after a restart or `SCRIPT FLUSH`). A script runs atomically
 * on the server: that is what makes compare-and-set and windowed counters safe
 * between instances, where a read-then-write from Node would race.
 */
class RedisScript {
  private readonly sha: string;

  constructor(private readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      // NOSCRIPT means nothing ran, so running the source cannot apply the change twice.
      if (String((error as { message?: unknown } | null)?.message).startsWith('NOSCRIPT')) {
        return redis.eval(this.lua, keys.length, ...keys, ...args);
      }
      throw error;
    }
  }
}

/**
 * KEYS[1] the key. ARGV[1] '1' when a current value is expected, '0' when the
 * key must be absent; ARGV[2] the expected value; ARGV[3] the next value;
 * ARGV[4] the TTL in ms, or '' to keep the key's current one; ARGV[5] the channel
 * to publish on after a successful write, or ''; ARGV[6] the message.
 * Returns 1 when the write (and publish) happened, 0 otherwise.
 */
export const COMPARE_AND_SET = new RedisScript(`
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current ~= ARGV[2] then return 0 end
elseif current then
  return 0
end
if ARGV[4] == '' then
  redis.call('SET', KEYS[1], ARGV[3], 'KEEPTTL')
else
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
end
if ARGV[5] ~= '' then
  redis.call('PUBLISH', ARGV[5], ARGV[6])
end
return 1
`);

/**
 * KEYS[1] the counter; ARGV[1] the window in ms. The first increment starts the
 * window; later ones never extend it. A counter without expiry (only possible
 * if something `SET` it) gets one rather than counting forever.
 * Returns { count, ttl in ms }.
 */
export const INCREMENT_IN_WINDOW = new RedisScript(`
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { count, ttl }
`);

/**
 * KEYS[1] the due set (a sorted set scored by due time); ARGV[1] now in epoch
 * ms; ARGV[2] the most members to take. Removes and returns the members due at
 * or before now, earliest first: in one atomic step, so two callers never get
 * the same member.
 */
export const TAKE_DUE = new RedisScript(`
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #members > 0 then
  if ARGV[3] == '' then
    redis.call('ZREM', KEYS[1], unpack(members))
  else
    local leasedUntil = tonumber(ARGV[3])
    for _, member in ipairs(members) do
      redis.call('ZADD', KEYS[1], leasedUntil, member)
    end
  end
end
return members
`);
