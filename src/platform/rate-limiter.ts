import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../env.ts";
import { type BucketRule, type BucketState, liveLeases, type TakeResult, takeTokens } from "../lib/token-bucket.ts";

/**
 * One Durable Object per rate-limit key (`group:ip:…`, `group:owner:…`): a token bucket whose state lives in the
 * object's SQLite-backed synchronous KV, so it survives eviction (an in-memory bucket would refill on every restart).
 * A single object per key serialises its callers, so the count is exact — unlike the Workers rate-limit binding,
 * which is per-location, eventually consistent, fixed in wrangler.toml and gives no Retry-After.
 */
export class RateLimiter extends DurableObject<Bindings> {
  /** Takes `cost` tokens if the bucket holds them; the rule comes from the caller's config. */
  take(rule: BucketRule, cost = 1, now = Date.now()): TakeResult {
    const stored = this.ctx.storage.kv.get<BucketState>("bucket");
    const result = takeTokens(stored ?? null, rule, cost, now);
    this.ctx.storage.kv.put("bucket", result.state);
    return result.answer;
  }

  /**
   * Holds one of at most `cap` concurrent leases (e.g. a client's open anonymous sockets); false when all are taken.
   * A lease lapses after `ttlMs` in case its release is never delivered (an evicted hub): a socket older than that
   * stops counting, which errs toward letting a client in.
   */
  acquire(leaseId: string, cap: number, ttlMs: number, now = Date.now()): boolean {
    const leases = liveLeases(this.ctx.storage.kv.get<Record<string, number>>("leases") ?? {}, now);
    if (!(leaseId in leases) && Object.keys(leases).length >= cap) {
      this.ctx.storage.kv.put("leases", leases);
      return false;
    }
    leases[leaseId] = now + ttlMs;
    this.ctx.storage.kv.put("leases", leases);
    return true;
  }

  /** Gives a lease back (idempotent). */
  release(leaseId: string, now = Date.now()): void {
    const leases = liveLeases(this.ctx.storage.kv.get<Record<string, number>>("leases") ?? {}, now);
    delete leases[leaseId];
    this.ctx.storage.kv.put("leases", leases);
  }
}

/** The limiter object for one key. */
export function rateLimiter(env: Bindings, key: string): DurableObjectStub<RateLimiter> {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(key));
}
