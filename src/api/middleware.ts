import type { MiddlewareHandler } from "hono";
import { SolanaRpc } from "../chain/rpc.ts";
import { loadConfig } from "../config.ts";
import { type DbHandle, openDatabase } from "../db/client.ts";
import type { AppEnv } from "../env.ts";
import { createLogger } from "../lib/log.ts";

/** Gives the request an id (echoed as `x-request-id`), its services, and one access-log line. */
export const services: MiddlewareHandler<AppEnv> = async (c, next) => {
  const incoming = c.req.header("x-request-id");
  const requestId = incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : crypto.randomUUID();
  c.set("requestId", requestId);
  c.header("x-request-id", requestId);
  // Throws ConfigError, which the error handler turns into CONFIG_INVALID naming the variables.
  const config = loadConfig(c.env);
  const log = createLogger(config.logLevel, { requestId });
  let handle = null as DbHandle | null;
  c.set("services", {
    config,
    log,
    rpc: new SolanaRpc(config),
    db: () => {
      handle ??= openDatabase(config, log);
      return handle;
    },
  });
  const started = Date.now();
  try {
    await next();
  } finally {
    const closing = handle?.close();
    if (closing) c.executionCtx.waitUntil(closing);
    log.info("request", { method: c.req.method, path: c.req.path, status: c.res.status, ms: Date.now() - started });
  }
};
