import { type RpcPriority, SolanaRpc } from "../chain/rpc.ts";
import { budgetLink } from "../chain/rpc-budget.ts";
import { loadConfig } from "../config.ts";
import { type DbHandle, openDatabase, openReads, type ReadDatabase } from "../db/client.ts";
import type { Bindings, Services } from "../env.ts";
import { createLogger } from "../lib/log.ts";

/**
 * The services of one invocation — an HTTP request (through the middleware), a Durable Object alarm or a cron run —
 * with a pool opened on first use and closed by `close()` at the end of the invocation, and an HTTP read handle
 * (nothing to close) for single-statement reads. `priority` is the class of its RPC calls in the provider's
 * shared budget: API requests and relays are `user` (never held back), the ingestion loop `ingest`, jobs
 * `background`.
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
  return {
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
    close: async () => {
      // What user calls spent reaches the shared budget here, after the response (the middleware's waitUntil).
      await rpc.flush();
      await handle?.close();
    },
  };
}
