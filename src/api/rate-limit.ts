import type { Context, MiddlewareHandler } from "hono";
import { type TakeResult, takeTokens } from "../lib/token-bucket.ts";
import { rateLimiter } from "../platform/rate-limiter.ts";
import { decodeSignedTransaction } from "../vault/relay.ts";
import type { AppEnv } from "./app-env.ts";
import { matchApiKey } from "./auth.ts";
import { fail } from "./envelope.ts";

/** Route groups with separate budgets: a client's WebSocket reconnects do not eat its deposit budget. */
export type LimitGroup = "build" | "relay" | "ws";

/** The bucket of requests whose client cannot be told apart (no trusted header configured, or none sent). */
export const UNIDENTIFIED_CLIENT = "unidentified";

/**
 * Who the client is, for per-client limits: the configured trusted header (TRUSTED_CLIENT_IP_HEADER, e.g.
 * cf-connecting-ip, which Cloudflare's edge overwrites) when set; otherwise nothing a client sends is believed and
 * every client shares one bucket — workerd hands a Worker no socket address of its own.
 */
export function clientId(c: Context<AppEnv>): string {
  const header = c.get("services").config.trustedClientIpHeader;
  if (!header) return UNIDENTIFIED_CLIENT;
  // A proxy chain lists the original client first; cap the length so a key cannot grow without bound.
  const value = c.req.header(header)?.split(",")[0]?.trim().slice(0, 64);
  return value ? `ip:${value}` : UNIDENTIFIED_CLIENT;
}

interface GroupOptions {
  /** A valid API key gets its own budget (the exchange's services) instead of the per-client and global ones. */
  perApiKey?: boolean;
  /** Also take from one budget shared by every anonymous client (unsigned builds: protects the RPC budget). */
  global?: boolean;
  /**
   * The owner the request PROVES it acts for (a transaction signed by that key), or null. Only proven owners are
   * charged a per-owner budget: an owner named in an unsigned request may be anyone's target, so charging it would
   * let strangers lock the owner out.
   */
  provenOwner?: (c: Context<AppEnv>) => Promise<string | null>;
}

/**
 * Limits a route group per client, optionally globally and per proven owner (token buckets in the RateLimiter
 * Durable Object), with 429 RATE_LIMITED and Retry-After. The per-owner charge comes after the proof, so a malformed
 * or forged request never costs the owner anything.
 */
export function limitGroup(group: LimitGroup, opts: GroupOptions = {}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { config, log } = c.get("services");
    // The exchange's own services call the privileged builders from a few addresses at trading rates: a valid key
    // gets a budget of its own instead of the per-client one meant for end users.
    const key = opts.perApiKey ? await presentedKey(c) : null;
    if (key) {
      const perKey = config.rateLimitKeyPerMinute;
      if (perKey > 0) {
        const denied = await take(c, `${group}:key:${key}`, perKey);
        if (denied) return tooMany(c, denied, "api_key");
      }
      await next();
      return;
    }
    const perClient = config.rateLimitIpPerMinute;
    if (perClient > 0) {
      const denied = await take(c, `${group}:client:${clientId(c)}`, perClient);
      if (denied) return tooMany(c, denied, "ip");
    }
    const global = config.rateLimitGlobalBuildsPerMinute;
    if (opts.global && global > 0) {
      // The limit is part of the key: a changed limit starts a bucket of its own instead of inheriting another rule's.
      const denied = await take(c, `${group}:global:${global}`, global);
      if (denied) return tooMany(c, denied, "global");
    }
    const perOwner = config.rateLimitOwnerPerMinute;
    const owner = perOwner > 0 && opts.provenOwner ? await opts.provenOwner(c).catch(() => null) : null;
    if (owner) {
      const denied = await take(c, `${group}:owner:${owner}`, perOwner);
      if (denied) return tooMany(c, denied, "owner");
    }
    log.debug("rate limit passed", { group });
    await next();
  };
}

/** Buckets kept in this isolate for when the RateLimiter object cannot be reached (bounded; oldest dropped). */
const fallbackBuckets = new Map<string, { tokens: number; at: number }>();
const FALLBACK_BUCKETS_MAX = 10_000;

/**
 * Takes one token; returns the refusal, or null when allowed. When the limiter object fails, the same rule is
 * applied by a bucket kept in this isolate: the API stays up, and a failing limiter never means "unlimited" (a
 * client spread over many isolates gets at most one budget per isolate until the limiter is back).
 */
async function take(c: Context<AppEnv>, key: string, perMinute: number): Promise<TakeResult | null> {
  const rule = { capacity: perMinute, perMinute };
  try {
    const result = await rateLimiter(c.env, key).take(rule);
    return result.allowed ? null : result;
  } catch (err) {
    c.get("services").log.warn("rate limiter unavailable; this isolate's own bucket applies", { key, error: err });
    return takeLocally(key, rule);
  }
}

/** The in-isolate bucket (exported for tests of the failing-limiter policy). */
export function takeLocally(key: string, rule: { capacity: number; perMinute: number }): TakeResult | null {
  const { state, answer } = takeTokens(fallbackBuckets.get(key) ?? null, rule, 1, Date.now());
  fallbackBuckets.delete(key);
  fallbackBuckets.set(key, state);
  if (fallbackBuckets.size > FALLBACK_BUCKETS_MAX) {
    const oldest = fallbackBuckets.keys().next().value;
    if (oldest !== undefined) fallbackBuckets.delete(oldest);
  }
  return answer.allowed ? null : answer;
}

/** The name of the configured key in x-api-key (compared in constant time), or null. The route still checks scope. */
async function presentedKey(c: Context<AppEnv>): Promise<string | null> {
  const presented = c.req.header("x-api-key");
  if (!presented) return null;
  return (await matchApiKey(c.get("services").config.apiKeys, presented))?.name ?? null;
}

const SCOPE_WORDS = {
  ip: "client",
  owner: "vault owner",
  api_key: "API key",
  global: "service (all clients)",
} as const;

function tooMany(c: Context<AppEnv>, denied: TakeResult, scope: keyof typeof SCOPE_WORDS): Response {
  c.header("retry-after", String(denied.retryAfterSec));
  return fail(c, "RATE_LIMITED", `Too many requests for this ${SCOPE_WORDS[scope]}; retry later`, {
    scope,
    retryAfterSec: denied.retryAfterSec,
  });
}

/**
 * The owner a relayed transaction proves: its fee payer, when the transaction decodes and every required signature
 * verifies (the fee payer's included). A transaction that does not verify proves nothing (the route refuses it).
 */
const relaySigner = async (c: Context<AppEnv>): Promise<string | null> => {
  const value = JSON.parse(await c.req.text()) as { signedTransaction?: unknown } | null;
  const tx = value?.signedTransaction;
  if (typeof tx !== "string" || tx.length > 4096) return null;
  const decoded = await decodeSignedTransaction(tx, c.get("services").config.programId);
  return decoded.feePayer.toBase58();
};

/**
 * The rate-limit classes an operation names (src/api/operation.ts):
 * - `build`, unsigned builds: per client and globally, never per owner (anyone may build a valid unsigned deposit
 *   naming anyone);
 * - `privileged` builds: per API key, or per client without a valid key;
 * - `relay`: per client, and per owner once the transaction's signatures prove it;
 * - `ws`, WebSocket upgrades and sign-in nonces: per client; the sockets themselves are capped by the owner's hub
 *   (anonymous ones per client and per owner).
 */
export type LimitClass = "build" | "privileged" | "relay" | "ws";

export function limitFor(limit: LimitClass): MiddlewareHandler<AppEnv> {
  switch (limit) {
    case "build":
      return limitGroup("build", { global: true });
    case "privileged":
      return limitGroup("build", { perApiKey: true, global: true });
    case "relay":
      return limitGroup("relay", { provenOwner: relaySigner });
    case "ws":
      return limitGroup("ws");
  }
}
