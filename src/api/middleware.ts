import type { MiddlewareHandler } from "hono";
import { backgroundServices } from "../platform/services.ts";
import type { AppEnv } from "./app-env.ts";

/** Gives the request an id (echoed as `x-request-id`), its services, and one access-log line. */
export const services: MiddlewareHandler<AppEnv> = async (c, next) => {
  const incoming = c.req.header("x-request-id");
  const requestId = incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : crypto.randomUUID();
  c.set("requestId", requestId);
  c.header("x-request-id", requestId);
  // Throws ConfigError, which the error handler turns into CONFIG_INVALID naming the variables.
  const { close, ...requestServices } = backgroundServices(c.env, { requestId });
  c.set("services", requestServices);
  const started = Date.now();
  try {
    await next();
  } finally {
    c.executionCtx.waitUntil(close());
    requestServices.log.info("request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Date.now() - started,
    });
  }
};
