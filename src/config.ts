import type { PublicKey } from "@solana/web3.js";
import { z } from "zod";
import { type AlertTarget, parseAlertTargets } from "./lib/alert-targets.ts";
import type { LogLevel } from "./lib/log.ts";
import { parsePubkey } from "./lib/pubkey.ts";

/** A provider's per-second budget as configured; 0 leaves a dimension unmetered. */
export interface BudgetRule {
  requestsPerSecond: number;
  itemsPerSecond: number;
  sendPerSecond: number;
  gpaPerSecond: number;
  /** Percent of each dimension that ingestion and background work leave for user builds and relays. */
  reservePercent: number;
}

/** The Worker's configuration, parsed once from vars and secrets. */
export interface Config {
  databaseUrl: string;
  /** One or more RPC endpoints, tried in order (failover). */
  rpcUrls: string[];
  /** HTTP requests one invocation may have in flight to the RPC at once (providers rate-limit by concurrency). */
  rpcMaxConcurrency: number;
  /** The provider's per-second budget, shared by every invocation through the RpcBudget Durable Object. */
  rpcBudget: BudgetRule;
  /** JSON-RPC items per HTTP batch request (getTransaction, getMultipleAccounts calls). */
  rpcBatchSize: number;
  /**
   * Slots of transaction history the provider keeps: a transaction the node still cannot return once it is older
   * than this is treated as pruned (a gap), not as "not seen yet".
   */
  rpcHistorySlots: number;
  /** Archival endpoint(s) with full history, for transactions the main provider has pruned; empty when none. */
  archiveRpcUrls: string[];
  wsUrl: string;
  programId: PublicKey;
  usdtMint: PublicKey;
  balanceCheckIntervalSec: number;
  reconciliationIntervalSec: number;
  /** Whole USDT. */
  lowBalanceThreshold: bigint;
  /** Whole USDT: a reconciliation difference larger than this raises an alert (0 = any difference). */
  reconciliationAlertThreshold: bigint;
  /** getMultipleAccounts calls one reconciliation invocation may make (each covers up to 50 vaults). */
  reconciliationMaxBatches: number;
  /** Below this many cached vaults, discovery scans the program whole (one call); above, in 256 partitions. */
  reconciliationSingleScanMax: number;
  logLevel: LogLevel;
  /** Local development only: host:port of the WebSocket→TCP proxy the Neon driver uses instead of Neon's. */
  neonWsProxy: string | null;
  /** Percentile of recent prioritization fees used as the compute-unit price. */
  priorityFeePercentile: number;
  /** Upper bound of the compute-unit price, micro-lamports per CU. */
  priorityFeeMaxMicroLamports: bigint;
  /** Lower bound of the compute-unit price (quiet accounts report 0, which does not land under load). */
  priorityFeeFloorMicroLamports: bigint;
  /** Where the price comes from: per-account percentiles of getRecentPrioritizationFees, or Helius's estimator. */
  priorityFeeEstimator: "rpc" | "helius";
  /** Safety margin added to the simulated compute units, percent. */
  computeUnitMarginPercent: number;
  /** API keys with their scopes (secret `API_KEYS`). */
  apiKeys: ApiKey[];
  /** Build and relay lock/unlock/transfer for authorities missing from the on-chain authorized list (default: refuse). */
  allowUnlistedAuthorities: boolean;
  /** Seconds one aggregated alert (unauthorized callers, self-transfers) counts occurrences before a new one opens. */
  alertAggregationWindowSec: number;
  /** Seconds between two program-safety checks (the probe also runs at once after a deploy). */
  programSafetyIntervalSec: number;
  /** The push path (ChainStream: logsSubscribe on SOLANA_WS_URL); off for providers without PubSub. */
  chainPush: boolean;
  /** Milliseconds between two passes of the ingestion Durable Object's alarm loop. */
  ingestIntervalMs: number;
  /** Expected `Authorization` header of Helius webhook calls; null disables the webhook (401). */
  heliusWebhookSecret: string | null;
  /** Local development only: base URL of the localnet (its /localnet/ dev controls); null on a real cluster. */
  devLocalnetUrl: string | null;
  /** Requests a minute (and burst) per client on each rate-limited route group; 0 = unlimited. */
  rateLimitIpPerMinute: number;
  /**
   * Requests a minute (and burst) per vault owner where ownership is proven (a relay signed by the owner); never
   * charged for unsigned builds, which anyone can make naming anyone. 0 = unlimited.
   */
  rateLimitOwnerPerMinute: number;
  /** Privileged requests per valid API key per minute (the exchange's services, not end users); 0 = off. */
  rateLimitKeyPerMinute: number;
  /** Unsigned builds a minute across all anonymous clients (protects the RPC budget); 0 = unlimited. */
  rateLimitGlobalBuildsPerMinute: number;
  /**
   * Request header that carries the client's address, trusted only when set (e.g. `cf-connecting-ip` behind
   * Cloudflare's edge, which overwrites it); null = no header is trusted and every client shares one bucket.
   */
  trustedClientIpHeader: string | null;
  /** Anonymous (unauthenticated) WebSockets one client may hold open at once, across owners; 0 = no cap. */
  wsMaxAnonymousPerClient: number;
  /** Anonymous WebSockets open at once on one owner's hub; an authenticated owner's socket never counts or is refused. */
  wsMaxAnonymousPerOwner: number;
  /** Seconds a sign-in nonce for an authenticated socket stays usable (single use). */
  wsAuthNonceTtlSec: number;
  /** Seconds after an owner's last socket went away before ingestion stops publishing to the owner's hub. */
  subscriptionTtlSec: number;
  /** Retention windows in days (the retention job); `transactions` (the history) is never deleted. */
  retention: {
    jobRunsDays: number;
    reconciliationLogsDays: number;
    resolvedAlertsDays: number;
    /** Balance snapshots are kept as taken this long, then one per owner and day… */
    snapshotsRawDays: number;
    /** …until this age, when they are deleted (each owner's latest snapshot is always kept). */
    snapshotsDays: number;
  };
  /** Origins allowed to call the API from a browser on another origin; empty = none, ["*"] = any. */
  corsOrigins: string[];
  /** Serves the benchmark's comparison routes under /__bench/ (never in production). */
  benchRoutes: boolean;
  /** Which cluster this deployment serves (a label for people and the deploy checks); null when not said. */
  solanaCluster: SolanaCluster | null;
  /** Where the singleton Durable Objects (Ingestor, Scheduler, Metrics) are created: near the database. */
  singletonLocationHint: LocationHint | null;
  /** Bumped to re-create the singletons under new names (a location hint applies only at creation). */
  singletonGeneration: number;
  /** Webhooks that receive every alert event (secret `ALERT_WEBHOOK_URL`); empty = alerts stay on the dashboard. */
  alertWebhooks: AlertTarget[];
  /** Messages per alert kind and webhook within `alertWindowSec`; beyond it a flood goes as one summary. */
  alertMaxPerKind: number;
  alertWindowSec: number;
}

export const SOLANA_CLUSTERS = ["localnet", "devnet", "testnet", "mainnet-beta"] as const;
export type SolanaCluster = (typeof SOLANA_CLUSTERS)[number];

/** Cloudflare's Durable Object location hints (developers.cloudflare.com/durable-objects/reference/data-location). */
export const LOCATION_HINTS = [
  "wnam",
  "enam",
  "sam",
  "weur",
  "eeur",
  "apac",
  "apac-ne",
  "apac-se",
  "oc",
  "afr",
  "me",
] as const;
export type LocationHint = (typeof LOCATION_HINTS)[number];

export type ApiScope = "service" | "admin";

export interface ApiKey {
  name: string;
  scope: ApiScope;
  key: string;
}

const pubkey = z.string().transform((value, ctx) => {
  const key = parsePubkey(value.trim());
  if (!key) {
    ctx.addIssue({ code: "custom", message: "must be a base58-encoded 32-byte public key" });
    return z.NEVER;
  }
  return key;
});

const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });
const wsUrl = z.url({ protocol: /^wss?$/, error: "must be a ws(s) URL" });
/** One or more comma-separated http(s) URLs. */
const urlList = z
  .string()
  .transform((s) =>
    s
      .split(",")
      .map((u) => u.trim())
      .filter(Boolean),
  )
  .pipe(z.array(httpUrl).min(1, "must list at least one http(s) URL"));
/** A provider rate: calls per second, 0 = not metered by the client. */
const perSecond = z.coerce.number().int().min(0).max(100_000).default(0);
const days = (fallback: number) =>
  z.coerce
    .number({ error: "must be a whole number of days" })
    .int("must be a whole number of days")
    .min(1, "must be at least 1 day")
    .max(36_500, "must be at most 36500 days")
    .default(fallback);

const seconds = (fallback: number) =>
  z.coerce
    .number({ error: "must be a whole number of seconds" })
    .int("must be a whole number of seconds")
    .min(1, "must be at least 1 second")
    .default(fallback);

const schema = z.object({
  DATABASE_URL: z
    .string({ error: "is required (a postgres:// connection string)" })
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// connection string"),
  SOLANA_RPC_URL: z.string({ error: "is required" }).pipe(urlList),
  SOLANA_WS_URL: wsUrl.optional(),
  RPC_MAX_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  RPC_REQUESTS_PER_SECOND: perSecond,
  RPC_ITEMS_PER_SECOND: perSecond,
  RPC_SEND_PER_SECOND: perSecond,
  RPC_GPA_PER_SECOND: perSecond,
  RPC_USER_RESERVE_PERCENT: z.coerce.number().int().min(0).max(90).default(20),
  RPC_BATCH_SIZE: z.coerce.number().int().min(1).max(1_000).default(100),
  RPC_HISTORY_SLOTS: z.coerce.number().int().min(1).default(432_000),
  SOLANA_ARCHIVE_RPC_URL: urlList.optional(),
  VAULT_PROGRAM_ID: pubkey,
  USDT_MINT: pubkey,
  BALANCE_CHECK_INTERVAL: seconds(30),
  RECONCILIATION_INTERVAL: seconds(300),
  LOW_BALANCE_THRESHOLD: z
    .string()
    .regex(/^\d{1,13}$/, "must be a whole number of USDT")
    .default("100")
    .transform((s) => BigInt(s)),
  RECONCILIATION_ALERT_THRESHOLD: z
    .string()
    .regex(/^\d{1,13}$/, "must be a whole number of USDT")
    .default("1")
    .transform((s) => BigInt(s)),
  RECONCILIATION_MAX_BATCHES: z.coerce.number().int().min(1).max(2_000).default(500),
  RECONCILIATION_SINGLE_SCAN_MAX: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  NEON_WS_PROXY: z.string().min(1).optional(),
  PRIORITY_FEE_PERCENTILE: z.coerce.number().int().min(0).max(100).default(50),
  PRIORITY_FEE_MAX_MICROLAMPORTS: z
    .string()
    .regex(/^\d{1,12}$/, "must be a whole number of micro-lamports")
    .default("500000")
    .transform((s) => BigInt(s)),
  PRIORITY_FEE_FLOOR_MICROLAMPORTS: z
    .string()
    .regex(/^\d{1,12}$/, "must be a whole number of micro-lamports")
    .default("0")
    .transform((s) => BigInt(s)),
  PRIORITY_FEE_ESTIMATOR: z.enum(["rpc", "helius"]).default("rpc"),
  COMPUTE_UNIT_MARGIN_PERCENT: z.coerce.number().int().min(0).max(500).default(20),
  API_KEYS: z
    .string()
    .default("")
    .transform((s, ctx) => parseApiKeys(s, ctx)),
  ALLOW_UNLISTED_AUTHORITIES: z.enum(["true", "false"]).default("false"),
  ALERT_AGGREGATION_WINDOW: seconds(900),
  PROGRAM_SAFETY_INTERVAL: seconds(86_400),
  CHAIN_PUSH: z.enum(["true", "false"]).default("true"),
  INGEST_INTERVAL_MS: z.coerce.number().int().min(250).max(600_000).default(3_000),
  HELIUS_WEBHOOK_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  DEV_LOCALNET_URL: httpUrl.optional(),
  RATE_LIMIT_IP_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(120),
  RATE_LIMIT_OWNER_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(30),
  RATE_LIMIT_KEY_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(6000),
  RATE_LIMIT_GLOBAL_BUILDS_PER_MINUTE: z.coerce.number().int().min(0).max(10_000_000).default(6000),
  TRUSTED_CLIENT_IP_HEADER: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9-]{1,64}$/, "must be a header name such as cf-connecting-ip")
    .optional(),
  WS_MAX_ANONYMOUS_PER_CLIENT: z.coerce.number().int().min(0).max(100_000).default(20),
  WS_MAX_ANONYMOUS_PER_OWNER: z.coerce.number().int().min(0).max(100_000).default(10),
  WS_AUTH_NONCE_TTL: seconds(300),
  SUBSCRIPTION_TTL: seconds(86_400),
  RETENTION_JOB_RUNS_DAYS: days(14),
  RETENTION_RECONCILIATION_LOGS_DAYS: days(90),
  RETENTION_RESOLVED_ALERTS_DAYS: days(90),
  RETENTION_SNAPSHOTS_RAW_DAYS: days(7),
  RETENTION_SNAPSHOTS_DAYS: days(365),
  CORS_ORIGINS: z
    .string()
    .default("")
    .transform((s) =>
      s
        .split(",")
        .map((o) => o.trim().replace(/\/+$/, ""))
        .filter(Boolean),
    )
    .pipe(z.array(z.union([z.literal("*"), httpUrl]), { error: "must be * or a comma-separated list of origins" })),
  BENCH_ROUTES: z.enum(["true", "false"]).default("false"),
  SOLANA_CLUSTER: z.enum(SOLANA_CLUSTERS).optional(),
  SINGLETON_LOCATION_HINT: z.enum(LOCATION_HINTS).optional(),
  SINGLETON_GENERATION: z.coerce.number().int().min(0).max(1_000_000).default(0),
  ALERT_WEBHOOK_URL: z
    .string()
    .default("")
    .transform((value, ctx) => {
      const parsed = parseAlertTargets(value);
      if ("targets" in parsed) return parsed.targets;
      ctx.addIssue({ code: "custom", message: parsed.error });
      return z.NEVER;
    }),
  ALERT_WEBHOOK_MAX_PER_KIND: z.coerce.number().int().min(1).max(1_000).default(5),
  ALERT_WEBHOOK_WINDOW: seconds(900),
});

/** Every variable the Worker reads (the README documents each). */
export const CONFIG_VARIABLES = Object.keys(schema.shape);

const KEY_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
/** Printable ASCII without the separators `,` and `:` and without spaces: a key the format can carry whole. */
const KEY_VALUE = /^[\x21-\x2b\x2d-\x39\x3b-\x7e]{24,256}$/;

/**
 * `name:scope:key` entries separated by commas. Anything the format cannot carry unambiguously is refused rather
 * than read as something else (a key containing `:` or `,` used to be cut silently): names are 1-64 of
 * `A-Za-z0-9_.-`, scopes `service` or `admin`, keys 24-256 printable characters without `:`, `,` or spaces; names
 * and keys are unique. Problems name the entry's position, never its text (the text holds the key).
 */
function parseApiKeys(value: string, ctx: z.RefinementCtx): ApiKey[] {
  const keys: ApiKey[] = [];
  const entries = value
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean);
  const problem = (n: number, what: string) => {
    ctx.addIssue({ code: "custom", message: `entry ${n} ${what} (expected name:service|admin:key)` });
    return [];
  };
  for (const [i, entry] of entries.entries()) {
    const parts = entry.split(":");
    if (parts.length !== 3) return problem(i + 1, "does not have exactly three ':'-separated parts");
    const [name, scope, key] = parts as [string, string, string];
    if (!KEY_NAME.test(name)) return problem(i + 1, "has a name that is not 1-64 of A-Z a-z 0-9 _ . -");
    if (scope !== "service" && scope !== "admin") return problem(i + 1, "has a scope other than service or admin");
    if (!KEY_VALUE.test(key)) return problem(i + 1, "has a key that is not 24-256 printable characters");
    if (keys.some((k) => k.name === name)) return problem(i + 1, "repeats a name used by an earlier entry");
    if (keys.some((k) => k.key === key)) return problem(i + 1, "repeats a key used by an earlier entry");
    keys.push({ name, scope, key });
  }
  return keys;
}

/** Raised when a variable is missing or malformed; the message names every bad variable (never its value). */
export class ConfigError extends Error {
  readonly variables: string[];
  constructor(problems: { variable: string; message: string }[]) {
    super(`Invalid configuration: ${problems.map((p) => `${p.variable} ${p.message}`).join("; ")}`);
    this.name = "ConfigError";
    this.variables = problems.map((p) => p.variable);
  }
}

const cache = new WeakMap<object, Config>();

/** Parses the Worker's env into a typed Config, once per env object. Throws ConfigError. */
export function loadConfig(env: object): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const source = Object.fromEntries(
    Object.entries(env).filter(([, v]) => typeof v === "string" && v !== "") as [string, string][],
  );
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? "config"), message: issue.message })),
    );
  }
  const v = parsed.data;
  const config: Config = {
    databaseUrl: v.DATABASE_URL,
    rpcUrls: v.SOLANA_RPC_URL,
    rpcMaxConcurrency: v.RPC_MAX_CONCURRENCY,
    rpcBudget: {
      requestsPerSecond: v.RPC_REQUESTS_PER_SECOND,
      itemsPerSecond: v.RPC_ITEMS_PER_SECOND,
      sendPerSecond: v.RPC_SEND_PER_SECOND,
      gpaPerSecond: v.RPC_GPA_PER_SECOND,
      reservePercent: v.RPC_USER_RESERVE_PERCENT,
    },
    rpcBatchSize: v.RPC_BATCH_SIZE,
    rpcHistorySlots: v.RPC_HISTORY_SLOTS,
    archiveRpcUrls: v.SOLANA_ARCHIVE_RPC_URL ?? [],
    wsUrl: v.SOLANA_WS_URL ?? deriveWsUrl(v.SOLANA_RPC_URL[0]!),
    programId: v.VAULT_PROGRAM_ID,
    usdtMint: v.USDT_MINT,
    balanceCheckIntervalSec: v.BALANCE_CHECK_INTERVAL,
    reconciliationIntervalSec: v.RECONCILIATION_INTERVAL,
    lowBalanceThreshold: v.LOW_BALANCE_THRESHOLD,
    reconciliationAlertThreshold: v.RECONCILIATION_ALERT_THRESHOLD,
    reconciliationMaxBatches: v.RECONCILIATION_MAX_BATCHES,
    reconciliationSingleScanMax: v.RECONCILIATION_SINGLE_SCAN_MAX,
    logLevel: v.LOG_LEVEL,
    neonWsProxy: v.NEON_WS_PROXY ?? null,
    priorityFeePercentile: v.PRIORITY_FEE_PERCENTILE,
    priorityFeeMaxMicroLamports: v.PRIORITY_FEE_MAX_MICROLAMPORTS,
    priorityFeeFloorMicroLamports: v.PRIORITY_FEE_FLOOR_MICROLAMPORTS,
    priorityFeeEstimator: v.PRIORITY_FEE_ESTIMATOR,
    computeUnitMarginPercent: v.COMPUTE_UNIT_MARGIN_PERCENT,
    apiKeys: v.API_KEYS,
    allowUnlistedAuthorities: v.ALLOW_UNLISTED_AUTHORITIES === "true",
    alertAggregationWindowSec: v.ALERT_AGGREGATION_WINDOW,
    programSafetyIntervalSec: v.PROGRAM_SAFETY_INTERVAL,
    chainPush: v.CHAIN_PUSH === "true",
    ingestIntervalMs: v.INGEST_INTERVAL_MS,
    heliusWebhookSecret: v.HELIUS_WEBHOOK_SECRET ?? null,
    devLocalnetUrl: v.DEV_LOCALNET_URL?.replace(/\/+$/, "") ?? null,
    rateLimitIpPerMinute: v.RATE_LIMIT_IP_PER_MINUTE,
    rateLimitOwnerPerMinute: v.RATE_LIMIT_OWNER_PER_MINUTE,
    rateLimitKeyPerMinute: v.RATE_LIMIT_KEY_PER_MINUTE,
    rateLimitGlobalBuildsPerMinute: v.RATE_LIMIT_GLOBAL_BUILDS_PER_MINUTE,
    trustedClientIpHeader: v.TRUSTED_CLIENT_IP_HEADER ?? null,
    wsMaxAnonymousPerClient: v.WS_MAX_ANONYMOUS_PER_CLIENT,
    wsMaxAnonymousPerOwner: v.WS_MAX_ANONYMOUS_PER_OWNER,
    wsAuthNonceTtlSec: v.WS_AUTH_NONCE_TTL,
    subscriptionTtlSec: v.SUBSCRIPTION_TTL,
    retention: {
      jobRunsDays: v.RETENTION_JOB_RUNS_DAYS,
      reconciliationLogsDays: v.RETENTION_RECONCILIATION_LOGS_DAYS,
      resolvedAlertsDays: v.RETENTION_RESOLVED_ALERTS_DAYS,
      snapshotsRawDays: v.RETENTION_SNAPSHOTS_RAW_DAYS,
      snapshotsDays: Math.max(v.RETENTION_SNAPSHOTS_DAYS, v.RETENTION_SNAPSHOTS_RAW_DAYS),
    },
    corsOrigins: v.CORS_ORIGINS,
    benchRoutes: v.BENCH_ROUTES === "true",
    solanaCluster: v.SOLANA_CLUSTER ?? null,
    singletonLocationHint: v.SINGLETON_LOCATION_HINT ?? null,
    singletonGeneration: v.SINGLETON_GENERATION,
    alertWebhooks: v.ALERT_WEBHOOK_URL,
    alertMaxPerKind: v.ALERT_WEBHOOK_MAX_PER_KIND,
    alertWindowSec: v.ALERT_WEBHOOK_WINDOW,
  };
  cache.set(env, config);
  return config;
}

/** What @solana/web3.js derives when no WebSocket URL is given: ws scheme, and an explicit port plus one. */
function deriveWsUrl(rpcUrl: string): string {
  const url = new URL(rpcUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  if (url.port !== "") url.port = String(Number(url.port) + 1);
  return url.toString();
}
