/** Token-bucket arithmetic (pure: no storage, no clock of its own), shared by the rate limiter object and its fallback. */

/** A token bucket: `capacity` tokens at most, refilled continuously at `perMinute` tokens a minute. */
export interface BucketRule {
  capacity: number;
  perMinute: number;
}

/** What a bucket answers to one `take`. */
export interface TakeResult {
  allowed: boolean;
  /** Whole seconds until one token is back (0 when allowed). */
  retryAfterSec: number;
  remaining: number;
}

export interface BucketState {
  tokens: number;
  at: number;
}

/** The leases that have not lapsed at `now`. */
export function liveLeases(leases: Record<string, number>, now: number): Record<string, number> {
  return Object.fromEntries(Object.entries(leases).filter(([, until]) => until > now));
}

/** Pure bucket arithmetic, separate from storage. */
export function takeTokens(
  stored: BucketState | null,
  rule: BucketRule,
  cost: number,
  now: number,
): { state: BucketState; answer: TakeResult } {
  const ratePerMs = rule.perMinute / 60_000;
  const elapsed = stored ? Math.max(0, now - stored.at) : 0;
  const tokens = Math.min(rule.capacity, stored ? stored.tokens + elapsed * ratePerMs : rule.capacity);
  if (tokens >= cost) {
    return {
      state: { tokens: tokens - cost, at: now },
      answer: { allowed: true, retryAfterSec: 0, remaining: Math.floor(tokens - cost) },
    };
  }
  const waitMs = ratePerMs > 0 ? (cost - tokens) / ratePerMs : 60_000;
  return {
    state: { tokens, at: now },
    answer: { allowed: false, retryAfterSec: Math.max(1, Math.ceil(waitMs / 1000)), remaining: 0 },
  };
}
