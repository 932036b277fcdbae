import { neonConfig, Pool } from "@neondatabase/serverless";
import { drizzle, type NeonDatabase } from "drizzle-orm/neon-serverless";
import type { Config } from "../config.ts";
import type { Logger } from "../lib/log.ts";
import * as schema from "./schema.ts";

export type Database = NeonDatabase<typeof schema>;

export interface DbHandle {
  db: Database;
  pool: Pool;
  /** Ends the pool; safe to call more than once. */
  close(): Promise<void>;
}

let proxyConfigured: string | null = null;

/**
 * Points the Neon driver at a local WebSocket→TCP proxy instead of Neon's own (local development and tests).
 * neonConfig is module-global, so it is set once per isolate.
 */
function configureLocalProxy(proxy: string): void {
  if (proxyConfigured === proxy) return;
  neonConfig.wsProxy = (host, port) => `${proxy}?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
  proxyConfigured = proxy;
}

/**
 * Opens a pool for one request, alarm or cron invocation. Workers forbid sharing I/O objects across requests, so
 * pools are never cached globally; the caller closes the handle (usually via waitUntil).
 */
export function openDatabase(config: Config, log: Logger): DbHandle {
  if (config.neonWsProxy) configureLocalProxy(config.neonWsProxy);
  const pool = new Pool({ connectionString: config.databaseUrl, max: 4, connectionTimeoutMillis: 5_000 });
  let closing: Promise<void> | null = null;
  // Without a listener, a socket closing during pool.end() surfaces as an unhandled error (TOOLCHAIN.md); once the
  // pool is closing such errors are expected and only worth a debug line.
  pool.on("error", (err: Error) =>
    closing
      ? log.debug("database socket closed with the pool", { error: err })
      : log.warn("database pool error", { error: err }),
  );
  return {
    db: drizzle(pool, { schema }),
    pool,
    close: () => {
      closing ??= pool.end().catch((err) => log.warn("database pool close failed", { error: err }));
      return closing;
    },
  };
}
