import { sql } from "drizzle-orm";
import { VERSION } from "../../lib/version.ts";
import type { Services } from "../../platform/services.ts";
import { ok } from "../envelope.ts";
import { defineOperation } from "../operation.ts";
import { healthData } from "../responses.ts";

const CHECK_TIMEOUT_MS = 2_000;

/** A database round trip (over HTTP, like the read routes), bounded by a short timeout. */
async function databaseHealthy(services: Services): Promise<boolean> {
  try {
    await withTimeout(services.reads().execute(sql`select 1`), CHECK_TIMEOUT_MS);
    return true;
  } catch (err) {
    services.log.warn("health: database check failed", { error: err });
    return false;
  }
}

/** The node's own health (`getHealth`), bounded by a short timeout. */
async function rpcHealthy(services: Services): Promise<boolean> {
  try {
    const result = await services.rpc.call<string>("getHealth", [], { timeoutMs: CHECK_TIMEOUT_MS });
    return result === "ok";
  } catch (err) {
    services.log.warn("health: rpc check failed", { error: err });
    return false;
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}

export default defineOperation({
  method: "get",
  path: "/health",
  summary: "Database and RPC health",
  tag: "system",
  success: [
    { status: 200, data: healthData, description: "Healthy" },
    { status: 503, data: healthData, description: "Unhealthy: the database or the RPC check failed (same envelope)" },
  ],
  errors: [],
  handler: async (c) => {
    const services = c.get("services");
    const [database, solanaRpc] = await Promise.all([databaseHealthy(services), rpcHealthy(services)]);
    const healthy = database && solanaRpc;
    // Same envelope either way: load balancers read the status code, people read the body.
    return ok(
      c,
      { status: healthy ? "healthy" : "unhealthy", database, solanaRpc, version: VERSION },
      healthy ? 200 : 503,
    );
  },
});
