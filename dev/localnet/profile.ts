/**
 * How a localnet front behaves as an RPC provider: `ideal` (no latency, no limits, full history — what the tests
 * use by default) or `provider` (what a paid Helius/Triton/QuickNode endpoint does: tens of milliseconds per
 * request, a per-second budget in which every item of a JSON-RPC batch counts, a separate sendTransaction budget,
 * getProgramAccounts limited apart, load-balanced nodes of which some lag, and a bounded transaction history).
 * Every knob can also be set on its own (environment variables, or POST /localnet/faults at run time).
 */

import { TokenBucket } from "../../src/chain/budget-gate.ts";

/** The behaviour of one front. Rates are per second; 0 means unlimited (or, for history, full history). */
export interface Profile {
  /** Delay before each HTTP request is answered. */
  latencyMs: number;
  /** Uniform jitter around `latencyMs` (± this much). */
  jitterMs: number;
  /** JSON-RPC items per second: each item of a batch counts as one request, as Helius counts them. */
  requestsPerSecond: number;
  /** sendTransaction calls per second, on top of the general budget. */
  sendPerSecond: number;
  /** getProgramAccounts calls per second, on top of the general budget. */
  gpaPerSecond: number;
  /** A getProgramAccounts answer with more accounts than this is refused (0 = no cap). */
  gpaMaxAccounts: number;
  /** Share (0–1) of HTTP requests answered by a node that is `lagSlots` behind the tip. */
  lagShare: number;
  lagSlots: number;
  /** getTransaction answers null for a transaction more than this many slots old (0 = full history). */
  historySlots: number;
}

export type ProfileName = "ideal" | "provider";

export const PROFILES: Record<ProfileName, Profile> = {
  ideal: {
    latencyMs: 0,
    jitterMs: 0,
    requestsPerSecond: 0,
    sendPerSecond: 0,
    gpaPerSecond: 0,
    gpaMaxAccounts: 0,
    lagShare: 0,
    lagSlots: 0,
    historySlots: 0,
  },
  // Helius's Developer plan (50 requests/s counting batch items, sendTransaction 5/s), a typical 40 ms round trip,
  // one node in ten a few slots behind, and two days of transaction history at 400 ms slots.
  provider: {
    latencyMs: 40,
    jitterMs: 10,
    requestsPerSecond: 50,
    sendPerSecond: 5,
    gpaPerSecond: 5,
    gpaMaxAccounts: 100_000,
    lagShare: 0.1,
    lagSlots: 8,
    historySlots: 432_000,
  },
};

/** Environment variable of each knob (read by `npm run localnet`, the dev stack, the tests and the bench). */
export const PROFILE_ENV: Record<keyof Profile, string> = {
  latencyMs: "LOCALNET_LATENCY_MS",
  jitterMs: "LOCALNET_JITTER_MS",
  requestsPerSecond: "LOCALNET_RPS",
  sendPerSecond: "LOCALNET_SEND_RPS",
  gpaPerSecond: "LOCALNET_GPA_RPS",
  gpaMaxAccounts: "LOCALNET_GPA_MAX_ACCOUNTS",
  lagShare: "LOCALNET_LAG_SHARE",
  lagSlots: "LOCALNET_LAG_SLOTS",
  historySlots: "LOCALNET_HISTORY_SLOTS",
};

/** A named profile with some knobs changed; unknown names and bad values are refused with a clear message. */
export function makeProfile(name: string | undefined, knobs: Partial<Record<keyof Profile, unknown>> = {}): Profile {
  const base = name === undefined || name === "" ? "ideal" : name;
  if (base !== "ideal" && base !== "provider") {
    throw new Error(`unknown localnet profile "${base}" (ideal or provider)`);
  }
  const profile = { ...PROFILES[base] };
  for (const key of Object.keys(profile) as (keyof Profile)[]) {
    const raw = knobs[key];
    if (raw === undefined || raw === null || raw === "") continue;
    const value = Number(raw);
    const valid = key === "lagShare" ? value >= 0 && value <= 1 : Number.isInteger(value) && value >= 0;
    if (!Number.isFinite(value) || !valid) {
      throw new Error(`${key} must be ${key === "lagShare" ? "between 0 and 1" : "a non-negative integer"}`);
    }
    profile[key] = value;
  }
  return profile;
}

/** The profile described by LOCALNET_PROFILE and the LOCALNET_* knobs of an environment. */
export function profileFromEnv(env: Record<string, string | undefined>): Profile {
  const knobs = Object.fromEntries(Object.entries(PROFILE_ENV).map(([key, variable]) => [key, env[variable]]));
  return makeProfile(env.LOCALNET_PROFILE, knobs);
}

/**
 * The Worker variables that match a front's profile: the client's budget set to the provider's, and the history
 * horizon it keeps. Empty for an unlimited front (the Worker's defaults then apply).
 */
export function workerVarsFor(profile: Profile): Record<string, string> {
  const vars: Record<string, string> = {};
  if (profile.requestsPerSecond > 0) vars.RPC_ITEMS_PER_SECOND = String(profile.requestsPerSecond);
  if (profile.sendPerSecond > 0) vars.RPC_SEND_PER_SECOND = String(profile.sendPerSecond);
  if (profile.gpaPerSecond > 0) vars.RPC_GPA_PER_SECOND = String(profile.gpaPerSecond);
  if (profile.historySlots > 0) vars.RPC_HISTORY_SLOTS = String(profile.historySlots);
  return vars;
}

/** A one-line description for start-up messages. */
export function describeProfile(p: Profile): string {
  if (Object.values(p).every((v) => v === 0)) return "ideal (no latency, no limits, full history)";
  const parts = [
    `${p.latencyMs}±${p.jitterMs} ms`,
    p.requestsPerSecond ? `${p.requestsPerSecond} req/s (batch items count)` : "no request budget",
    p.sendPerSecond ? `sendTransaction ${p.sendPerSecond}/s` : null,
    p.gpaPerSecond ? `getProgramAccounts ${p.gpaPerSecond}/s` : null,
    p.gpaMaxAccounts ? `≤ ${p.gpaMaxAccounts} accounts per getProgramAccounts` : null,
    p.lagShare ? `${Math.round(p.lagShare * 100)} % of requests ${p.lagSlots} slots behind` : null,
    p.historySlots ? `${p.historySlots} slots of history` : "full history",
  ];
  return parts.filter(Boolean).join(", ");
}

/**
 * How providers meter "per second": a bucket of one second's worth of tokens, refilled continuously (the same
 * arithmetic as the client's shared budget). The clock is passed in so it can be checked without waiting.
 */
export class Bucket {
  private readonly bucket: TokenBucket;
  constructor(perSecond: number, now: number) {
    this.bucket = new TokenBucket(perSecond, now);
  }

  /** Whole tokens available now. */
  available(now: number): number {
    this.bucket.refill(now);
    return Math.floor(this.bucket.tokens);
  }

  /** Takes `n` tokens (the caller checked `available`). */
  take(n: number): void {
    this.bucket.tokens -= n;
  }

  /** Whole seconds until one token is back, for Retry-After (at least 1). */
  retryAfterSec(now: number): number {
    this.bucket.refill(now);
    return Math.max(1, Math.ceil((1 - this.bucket.tokens) / this.bucket.rate));
  }
}
