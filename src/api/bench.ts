import { sql } from "drizzle-orm";
import type { Context, MiddlewareHandler } from "hono";
import { rpcBudget } from "../chain/rpc-budget.ts";
import { chainStream } from "../ingest/chain-stream.ts";
import { ingestFromCursor } from "../ingest/pipeline.ts";
import { INTERVAL_JOBS } from "../jobs/interval-jobs.ts";
import { reconciliationJob } from "../jobs/reconciliation.ts";
import { runJobs } from "../jobs/run-jobs.ts";
import { tvlJob } from "../jobs/tvl.ts";
import type { AppEnv } from "./app-env.ts";
import { ok } from "./envelope.ts";

/**
 * Comparison routes for `npm run bench`, answered only with BENCH_ROUTES=true (otherwise they fall through to
 * 404): GET /__bench/noop does no I/O (the Worker's own floor); GET /__bench/db does one `select 1` through the
 * request's pool (connection set-up + one round trip, what writes pay) and GET /__bench/db-http the same over the
 * HTTP read handle (what the read routes pay), which tells their database cost from the rest;
 * POST /__bench/run/ingest, /__bench/run/reconciliation, /__bench/run/tvl and /__bench/run/interval (the Scheduler's
 * jobs) run one ingestion pass or one job
 * invocation alone (the minute cron runs both, plus finalization, so it cannot time either); the ingestion pass runs
 * in the ingestion class of the RPC budget, as the Ingestor does, and reports its RPC figures. GET
 * /__bench/rpc-budget returns the shared budget object's figures for the first RPC endpoint; POST /__bench/chain-stream
 * starts the push path (the minute cron does it in production) and returns its status. Middleware rather than
 * routes, so they stay out of the route list and the public OpenAPI document.
 */
export const benchRoutes: MiddlewareHandler<AppEnv> = async (c, next) => {
  const services = c.get("services");
  if (!services.config.benchRoutes) return next();
  const route = `${c.req.method} ${c.req.path}`;
  if (route === "GET /__bench/noop") return ok(c, { ok: true });
  if (route === "GET /__bench/db") {
    await services.db().db.execute(sql`select 1`);
    return ok(c, { ok: true });
  }
  if (route === "GET /__bench/db-http") {
    await services.reads().execute(sql`select 1`);
    return ok(c, { ok: true });
  }
  if (route === "POST /__bench/run/ingest") {
    services.rpc.priority = "ingest";
    const run = await timed(() => ingestFromCursor(c.env, services));
    const { requests, items, rateLimited, retried, budgetCalls, budgetWaitMs } = services.rpc;
    return ok(c, { ...run, rpc: { requests, items, rateLimited, retried, budgetCalls, budgetWaitMs } });
  }
  if (route === "POST /__bench/chain-stream") return ok(c, await chainStream(c.env).ensure());
  if (route === "GET /__bench/rpc-budget") {
    return ok(c, await rpcBudget(c.env, services.config.rpcUrls[0]!).stats());
  }
  if (route === "POST /__bench/run/reconciliation") return ok(c, await timed(() => runOnce(c, "reconciliation")));
  if (route === "POST /__bench/run/tvl") return ok(c, await timed(() => runOnce(c, "tvl")));
  if (route === "POST /__bench/run/interval") {
    return ok(c, await timed(() => runJobs(c.env, c.executionCtx, INTERVAL_JOBS, "bench")));
  }
  return next();
};

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = Date.now();
  const result = await work();
  return { ms: Date.now() - started, result };
}

/** One invocation of a job as the cron runs it (recorded in job_runs under the trigger "bench"). */
async function runOnce(c: Context<AppEnv>, job: "reconciliation" | "tvl"): Promise<null> {
  await runJobs(c.env, c.executionCtx, [job === "tvl" ? tvlJob : reconciliationJob], "bench");
  return null;
}
