import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { RpcUnavailableError } from "../chain/rpc.ts";
import { ConfigError } from "../config.ts";
import { isDatabaseUnavailable } from "../db/errors.ts";
import { AppError } from "../lib/errors.ts";
import { createLogger } from "../lib/log.ts";
import type { AppEnv } from "./app-env.ts";
import { benchRoutes } from "./bench.ts";
import { fail } from "./envelope.ts";
import { services } from "./middleware.ts";
import { openApiOperation } from "./openapi.ts";
import { mountOperation, type Operation, validationHook } from "./operation.ts";
import { OPERATIONS } from "./operations/index.ts";
import { countOutcomes } from "./outcomes.ts";
import { protect, securityHeaders } from "./security.ts";

/** Builds the HTTP API: every response, including errors, in the design document's envelope. */
export function createApp(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook as never });
  app.use("*", securityHeaders);
  app.use("*", services);
  app.use("*", countOutcomes);
  protect(app, new Map(OPERATIONS.flatMap((op) => (op.maxBodyBytes ? [[op.path, op.maxBodyBytes] as const] : []))));
  for (const op of OPERATIONS) mountOperation(app, op);
  mountOperation(app, openApiOperation as Operation);
  app.use("/__bench/*", benchRoutes);

  app.notFound((c) => {
    const allowed = allowedMethods(app, c.req.path);
    if (allowed.length > 0) {
      c.header("allow", allowed.join(", "));
      return fail(
        c,
        "METHOD_NOT_ALLOWED",
        `${c.req.method} is not allowed on ${c.req.path}; use ${allowed.join(", ")}`,
      );
    }
    return fail(c, "NOT_FOUND", `No route for ${c.req.method} ${c.req.path}`);
  });

  app.onError((err, c) => {
    if (err instanceof AppError) return fail(c, err.code, err.message, err.details);
    if (err instanceof ConfigError) {
      createLogger("error").error("configuration invalid", { variables: err.variables });
      return fail(c, "CONFIG_INVALID", err.message);
    }
    if (err instanceof RpcUnavailableError) {
      c.get("services")?.log.warn("rpc unavailable", { error: err });
      return fail(c, "UPSTREAM_UNAVAILABLE", "The Solana RPC is unavailable; try again shortly");
    }
    if (isDatabaseUnavailable(err)) {
      c.get("services")?.log.warn("database unavailable", { error: err });
      c.header("retry-after", "1");
      return fail(c, "SERVICE_UNAVAILABLE", "The database is unavailable or at capacity; retry shortly");
    }
    if (err instanceof HTTPException && err.status === 413) {
      return fail(c, "PAYLOAD_TOO_LARGE", "Request body is too large");
    }
    if (err instanceof HTTPException && err.status === 415) {
      return fail(c, "UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json");
    }
    const requestId = c.get("requestId");
    c.get("services")?.log.error("unhandled error", {
      error: err,
      stack: err instanceof Error ? err.stack : undefined,
    });
    return fail(c, "INTERNAL_ERROR", `Internal error (request ${requestId ?? "unknown"})`);
  });
  return app;
}

/** Methods registered for a path, used to tell 405 from 404. */
function allowedMethods(app: OpenAPIHono<AppEnv>, path: string): string[] {
  const methods = new Set<string>();
  for (const route of app.routes) {
    if (route.method === "ALL" || route.path.includes("*")) continue;
    const pattern = new RegExp(`^${route.path.replace(/:[^/]+/g, "[^/]+")}/?$`);
    if (pattern.test(path)) methods.add(route.method);
  }
  return [...methods].sort();
}
