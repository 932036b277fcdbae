import { sql } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../env.ts";
import { ok } from "../envelope.ts";

/**
 * Comparison routes for `npm run bench`, answered only with BENCH_ROUTES=true (otherwise they fall through to
 * 404): GET /__bench/noop does no I/O (the Worker's own floor); GET /__bench/db does one `select 1` through the
 * request's pool (connection set-up + one round trip), which tells the read routes' database cost from the rest.
 * A middleware rather than routes, so they stay out of the route list and the public OpenAPI document.
 */
export const benchRoutes: MiddlewareHandler<AppEnv> = async (c, next) => {
  const services = c.get("services");
  if (!services.config.benchRoutes || c.req.method !== "GET") return next();
  if (c.req.path === "/__bench/noop") return ok(c, { ok: true });
  if (c.req.path === "/__bench/db") {
    await services.db().db.execute(sql`select 1`);
    return ok(c, { ok: true });
  }
  return next();
};
