import type { SolanaRpc } from "./chain/rpc.ts";
import type { Config } from "./config.ts";
import type { DbHandle, ReadDatabase } from "./db/client.ts";
import type { Logger } from "./lib/log.ts";
import type { MetricsCollector } from "./monitor/metrics/collector.ts";

/** Bindings: the vars of wrangler.toml (typed by `wrangler types`) plus secrets, which wrangler.toml cannot list. */
export interface Bindings extends Env {
  DATABASE_URL?: string;
  /** Secrets: a provider's URL carries its API key. */
  SOLANA_RPC_URL?: string;
  SOLANA_WS_URL?: string;
  API_KEYS?: string;
  HELIUS_WEBHOOK_SECRET?: string;
  ALERT_WEBHOOK_URL?: string;
  NEON_WS_PROXY?: string;
}

/** Per-request services, created by one middleware and closed when the request ends. */
export interface Services {
  config: Config;
  log: Logger;
  rpc: SolanaRpc;
  /** Opens the request's database pool on first use: transactions and writes. */
  db(): DbHandle;
  /** Single-statement reads over Neon's HTTP endpoint: one round trip each, no pool (nothing to close). */
  reads(): ReadDatabase;
  /** This invocation's counter increments for /metrics, sent when it ends. */
  metrics: MetricsCollector;
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: {
    requestId: string;
    services: Services;
    apiKeyName?: string;
    /** The request's JSON body once read and validated (src/api/operation.ts), with its raw text. */
    body?: { text: string; value: unknown };
  };
}
