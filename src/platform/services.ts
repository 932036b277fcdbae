import { type RpcPriority, SolanaRpc } from "../chain/rpc.ts";
import { budgetLink } from "../chain/rpc-budget.ts";
import type { Config } from "../config.ts";
import { loadConfig } from "../config.ts";
import { type DbHandle, openDatabase, openReads, type ReadDatabase } from "../db/client.ts";
import type { Bindings } from "../env.ts";
import type { Logger } from "../lib/log.ts";
import { createLogger } from "../lib/log.ts";
import { alertActivityCount } from "./alerts.ts";
import { deliverAlerts } from "./delivery/deliver.ts";
import { MetricsCollector } from "./metrics/collector.ts";

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

/**
 * The services of one invocation — an HTTP request (through the middleware), a Durable Object alarm or a cron run —
 * with a pool opened on first use and closed by `close()` at the end of the invocation, and an HTTP read handle
 * (nothing to close) for single-statement reads. `priority` is the class of its RPC calls in the provider's
 * shared budget: API requests and relays are `user` (never held back), the ingestion loop `ingest`, jobs
 * `background`. `close()` also reports what user calls spent to the shared budget, delivers alerts this invocation
 * raised and sends its metric increments (requests call it from `waitUntil`, so none adds latency to a response).
 */
export function backgroundServices(
  env: Bindings,
  fields: Record<string, unknown>,
  priority: RpcPriority = "user",
): Services & { close(): Promise<void> } {
  const config = loadConfig(env);
  const log = createLogger(config.logLevel, fields);
  let handle = null as DbHandle | null;
  let reads = null as ReadDatabase | null;
  const rpc = new SolanaRpc(config, { budget: budgetLink(env, config.rpcBudget), priority });
  const alertsBefore = alertActivityCount();
  const services: Services = {
    config,
    log,
    rpc,
    db: () => {
      handle ??= openDatabase(config, log);
      return handle;
    },
    reads: () => {
      reads ??= openReads(config);
      return reads;
    },
    metrics: new MetricsCollector(),
  };
  return {
    ...services,
    close: async () => {
      // What user calls spent reaches the shared budget here, after the response (the middleware's waitUntil).
      await rpc.flush();
      // Alerts raised (or resolved) in this invocation go out now rather than at the next minute cron.
      if (alertActivityCount() !== alertsBefore && config.alertWebhooks.length > 0) {
        await deliverAlerts(services).catch((err) => log.warn("alert delivery failed", { error: err }));
      }
      await handle?.close();
      await services.metrics.flush(env, services.rpc).catch((err) => log.warn("metrics not recorded", { error: err }));
    },
  };
}
