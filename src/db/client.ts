import { neon, neonConfig, Pool } from "@neondatabase/serverless";
import { drizzle as drizzleHttp, type NeonHttpDatabase } from "drizzle-orm/neon-http";
import { drizzle, type NeonDatabase } from "drizzle-orm/neon-serverless";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type { Config } from "../config.ts";
import type { Logger } from "../lib/log.ts";
import * as schema from "./schema.ts";

/** The pool's handle: interactive transactions and writes. */
export type Database = NeonDatabase<typeof schema>;
/** The HTTP handle: one statement per round trip, no transactions (drizzle-orm/neon-http throws on them). */
export type ReadDatabase = NeonHttpDatabase<typeof schema>;
/** What a single-statement read takes: either handle (the read routes pass the HTTP one, jobs their pool). */
export type Queryable = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface DbHandle {
  db: Database;
  pool: Pool;
  /** Ends the pool; safe to call more than once. */
  close(): Promise<void>;
}

let proxyConfigured: string | null = null;

/**
 * Points the Neon driver at the local proxy (dev/ws-proxy.ts) instead of Neon's own endpoints (local development,
 * tests, bench): the WebSocket tunnel for pools and `http://<proxy>/sql` for `neon()`. In production both stay
 * Neon's, derived from DATABASE_URL's host. neonConfig is module-global, so it is set once per isolate.
 */
function configureLocalProxy(proxy: string): void {
  if (proxyConfigured === proxy) return;
  neonConfig.wsProxy = (host, port) => `${proxy}?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
  neonConfig.fetchEndpoint = `http://${proxy}/sql`;
  proxyConfigured = proxy;
}

/**
 * The read handle: every query is one HTTPS request to Neon's SQL endpoint — no WebSocket, no Postgres start-up,
 * and the runtime reuses the fetch connection — pooled on Neon's side. Nothing here is an I/O object, so it is
 * cheap to build per invocation. Only for single statements that need no transaction.
 */
export function openReads(config: Config): ReadDatabase {
  if (config.neonWsProxy) configureLocalProxy(config.neonWsProxy);
  // neon() would quote an unparsable string, password included, in its error (and so in logs).
  if (!URL.canParse(config.databaseUrl)) throw new Error("DATABASE_URL is not a valid URL");
  return drizzleHttp(neon(config.databaseUrl), { schema });
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
