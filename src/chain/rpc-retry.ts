/**
 * Which RPC answers are transient — worth asking again after a pause — and how long to pause. A load-balanced
 * provider answers each request from one of several nodes; a node a few slots behind refuses `minContextSlot`
 * (-32016), has not seen a fresh blockhash (BlockhashNotFound in a simulation) or a block yet (-32004, -32014), or
 * says it is behind (-32005); an item beyond the budget gets a per-item 429. Another node, a moment later, answers.
 */

/** JSON-RPC error codes that a later attempt (usually another node) can answer. */
const TRANSIENT_CODES = new Set([
  -32004, // block not available for slot (not yet, on this node)
  -32005, // node is unhealthy / behind
  -32014, // block status not yet available
  -32016, // minimum context slot has not been reached
  429, // per-item rate limit (the code providers use inside a batch)
  -32429, // the same, as some providers number it
]);

/** True for a JSON-RPC error code that is transient. */
export function isTransientCode(code: number): boolean {
  return TRANSIENT_CODES.has(code);
}

/** True for a JSON-RPC error code that means "over the budget". */
export function isRateLimitCode(code: number): boolean {
  return code === 429 || code === -32429;
}

/**
 * True when a successful answer is still a lagging node's: a simulation that checks the transaction's own blockhash
 * and reports BlockhashNotFound — a blockhash the client just got from another node may be newer than this node's
 * tip. (A blockhash that has really expired gives the same answer every time: after the retries it is returned.)
 */
export function isTransientResult(method: string, params: unknown[], result: unknown): boolean {
  if (method !== "simulateTransaction") return false;
  const config = params[1] as { replaceRecentBlockhash?: boolean } | undefined;
  if (config?.replaceRecentBlockhash) return false;
  return (result as { value?: { err?: unknown } } | null)?.value?.err === "BlockhashNotFound";
}

/**
 * Milliseconds to wait before attempt `attempt + 1`: exponential (base·2^(attempt−1), capped at 5 s) with full
 * jitter, never less than what the provider asked for in Retry-After. A rate limit waits at least half the step
 * (the budget refills over a second, not a few milliseconds: a lucky zero wait would only spend another attempt).
 */
export function backoffMs(attempt: number, opts: { rateLimited?: boolean; retryAfterMs?: number } = {}): number {
  const step = Math.min(5_000, (opts.rateLimited ? 250 : 100) * 2 ** (attempt - 1));
  const jittered = opts.rateLimited ? step / 2 + (Math.random() * step) / 2 : Math.random() * step;
  return Math.max(jittered, opts.retryAfterMs ?? 0);
}

/** Retry-After in milliseconds (seconds or an HTTP date), capped; 0 when absent or unreadable. */
export function retryAfterMs(header: string | null, capMs: number, now = Date.now()): number {
  if (!header) return 0;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, capMs) : 0;
}
