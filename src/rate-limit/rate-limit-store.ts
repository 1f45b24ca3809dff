// Fixed-window request counters. In memory for one process; in Redis when
// REDIS_URL is set, so that every process of the service counts together.
import { Redis } from 'ioredis';
import type { Logger } from '../lib/logger.js';

export interface Hit {
  count: number;
  /** Milliseconds until the window, and the count, reset. */
  resetMs: number;
}

export interface RateLimitStore {
  hit(key: string, windowMs: number): Promise<Hit>;
  close(): Promise<void>;
}

export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private readonly sweeper = setInterval(() => this.forgetExpired(), 60_000).unref();

  async hit(key: string, windowMs: number): Promise<Hit> {
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) this.windows.set(key, (window = { count: 0, resetAt: now + windowMs }));
    window.count += 1;
    return { count: window.count, resetMs: window.resetAt - now };
  }

  private forgetExpired() {
    const now = Date.now();
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }

  async close() {
    clearInterval(this.sweeper);
  }
}

// INCR and the expiry of a new window in one step, and what is left of the window.
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}`;

/**
 * Counters in Redis. If Redis cannot answer, the request is counted in this
 * process's memory instead: a Redis outage must not stop payments, and limits
 * still hold per process meanwhile.
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly redis: Redis;
  private readonly fallback = new MemoryRateLimitStore();
  private warned = false;

  constructor(url: string, private readonly prefix: string, private readonly log: Logger) {
    this.redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 });
    this.redis.on('error', () => {}); // reported once per outage by hit()
  }

  async hit(key: string, windowMs: number): Promise<Hit> {
    try {
      const [count, ttl] = (await this.redis.eval(HIT_SCRIPT, 1, this.prefix + key, windowMs)) as [number, number];
      this.warned = false;
      return { count, resetMs: ttl };
    } catch (error) {
      if (!this.warned) this.log.error({ event: 'rate_limit.redis_unavailable', err: error }, 'Redis unavailable; counting requests in memory');
      this.warned = true;
      return this.fallback.hit(key, windowMs);
    }
  }

  async close() {
    await this.fallback.close();
    this.redis.disconnect();
  }
}
