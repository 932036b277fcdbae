import { PublicKey } from "@solana/web3.js";
import type { Context, Hono, MiddlewareHandler } from "hono";
import type { AppEnv } from "../env.ts";
import { parsePubkey } from "../lib/pubkey.ts";
import { rateLimiter, type TakeResult } from "../realtime/rate-limiter.ts";
import { matchApiKey } from "./auth.ts";
import { fail } from "./envelope.ts";

/** Route groups with separate budgets: a client's WebSocket reconnects do not eat its deposit budget. */
export type LimitGroup = "build" | "relay" | "ws";

/** Where the client comes from: Cloudflare's own header (clients cannot set it at the edge), else one local bucket. */
export function clientIp(c: Context<AppEnv>): string {
  return c.req.header("cf-connecting-ip") ?? "local";
}

/**
 * Limits a route group per client IP and per vault owner (token buckets in the RateLimiter Durable Object), with
 * 429 RATE_LIMITED and Retry-After. The owner is read by `ownerOf` from the request (path or body) without
 * validating it — validation stays the route's job; a request with no recognisable owner is limited by IP only.
 */
export function limitGroup(
  group: LimitGroup,
  ownerOf: (c: Context<AppEnv>) => Promise<string | null>,
  opts: { perApiKey?: boolean } = {},
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { config, log } = c.get("services");
    // The exchange's own services call the privileged builders from a few addresses at trading rates: a valid key
    // gets a budget of its own instead of the per-IP and per-owner ones meant for end users.
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
    const ip = config.rateLimitIpPerMinute;
    if (ip > 0) {
      const denied = await take(c, `${group}:ip:${clientIp(c)}`, ip);
      if (denied) return tooMany(c, denied, "ip");
    }
    const perOwner = config.rateLimitOwnerPerMinute;
    const owner = perOwner > 0 ? await ownerOf(c).catch(() => null) : null;
    if (owner) {
      const denied = await take(c, `${group}:owner:${owner}`, perOwner);
      if (denied) return tooMany(c, denied, "owner");
    }
    log.debug("rate limit passed", { group });
    await next();
  };
}

/** Takes one token; returns the refusal, or null when allowed (also when the limiter is unreachable: fail open). */
async function take(c: Context<AppEnv>, key: string, perMinute: number): Promise<TakeResult | null> {
  try {
    const result = await rateLimiter(c.env, key).take({ capacity: perMinute, perMinute });
    return result.allowed ? null : result;
  } catch (err) {
    // Availability over strictness: a limiter hiccup must not take the API down with it.
    c.get("services").log.warn("rate limiter unavailable; request allowed", { key, error: err });
    return null;
  }
}

/** The name of the configured key in x-api-key (compared in constant time), or null. The route still checks scope. */
async function presentedKey(c: Context<AppEnv>): Promise<string | null> {
  const presented = c.req.header("x-api-key");
  if (!presented) return null;
  return (await matchApiKey(c.get("services").config.apiKeys, presented))?.name ?? null;
}

const SCOPE_WORDS = { ip: "client", owner: "vault owner", api_key: "API key" } as const;

function tooMany(c: Context<AppEnv>, denied: TakeResult, scope: keyof typeof SCOPE_WORDS): Response {
  c.header("retry-after", String(denied.retryAfterSec));
  return fail(c, "RATE_LIMITED", `Too many requests for this ${SCOPE_WORDS[scope]}; retry later`, {
    scope,
    retryAfterSec: denied.retryAfterSec,
  });
}

/** The first owner-like field of a JSON body (a malformed body yields none; the route reports it). */
function bodyOwner(fields: string[]) {
  return async (c: Context<AppEnv>): Promise<string | null> => {
    const value = JSON.parse(await c.req.text()) as Record<string, unknown> | null;
    if (typeof value !== "object" || value === null) return null;
    for (const field of fields) {
      const key = parsePubkey(value[field]);
      if (key) return key.toBase58();
    }
    return null;
  };
}

/** The fee payer (first account key) of a signed wire transaction, legacy or v0, without a full decode. */
export function feePayerOf(base64: string): string | null {
  const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  let at = 0;
  const compactU16 = (): number => {
    let value = 0;
    for (let shift = 0; shift < 21; shift += 7) {
      const byte = bytes[at++];
      if (byte === undefined) throw new Error("truncated");
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new Error("bad length");
  };
  at += compactU16() * 64;
  if ((bytes[at] ?? 0) & 0x80) at += 1; // versioned message prefix
  at += 3; // message header
  if (compactU16() < 1 || at + 32 > bytes.length) return null;
  return new PublicKey(bytes.subarray(at, at + 32)).toBase58();
}

const relayOwner = async (c: Context<AppEnv>): Promise<string | null> => {
  const value = JSON.parse(await c.req.text()) as { signedTransaction?: unknown } | null;
  const tx = value?.signedTransaction;
  return typeof tx === "string" && tx.length <= 4096 ? feePayerOf(tx) : null;
};

const USER_BUILD_ROUTES = ["/vault/initialize", "/vault/deposit", "/vault/withdraw"];
const PRIVILEGED_BUILD_ROUTES = ["/vault/lock", "/vault/unlock", "/vault/transfer", "/admin/*"];

/** Registers the limits on the build routes (user and privileged), the relay and the WebSocket route. */
export function rateLimits(app: Hono<AppEnv>): void {
  const owners = bodyOwner(["userPubkey", "fromOwner", "adminPubkey"]);
  const build = limitGroup("build", owners);
  for (const path of USER_BUILD_ROUTES) app.use(path, only("POST", build));
  // Without a valid key these are limited like user builds (failed key guesses included).
  const privileged = limitGroup("build", owners, { perApiKey: true });
  for (const path of PRIVILEGED_BUILD_ROUTES) app.use(path, only("POST", privileged));
  app.use("/vault/submit", only("POST", limitGroup("relay", relayOwner)));
  app.use(
    "/ws/:owner",
    only(
      "GET",
      limitGroup("ws", async (c) => parsePubkey(c.req.param("owner"))?.toBase58() ?? null),
    ),
  );
}

/** Middleware (not routes: the route list stays what the OpenAPI document describes) for one method. */
function only(method: string, handler: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> {
  return (c, next) => (c.req.method === method ? handler(c, next) : next());
}
