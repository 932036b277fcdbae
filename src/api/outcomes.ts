import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env.ts";

/** Build routes and the operation each builds (the `operation` label of vault_builds_total). */
const BUILDS: Record<string, string> = {
  "/vault/initialize": "initialize",
  "/vault/deposit": "deposit",
  "/vault/withdraw": "withdraw",
  "/vault/lock": "lock",
  "/vault/unlock": "unlock",
  "/vault/transfer": "transfer",
  "/admin/authority/initialize": "initialize_authority",
  "/admin/authority/programs/add": "add_authorized_program",
  "/admin/authority/programs/remove": "remove_authorized_program",
  "/admin/pause": "set_paused",
};

/**
 * Counts builds and relays by outcome for /metrics: `ok` / `accepted`, or the error code the client got (a closed
 * list, so the label stays small). Only the invocation's collector is touched here; it is sent after the response.
 */
export const countOutcomes: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  if (c.req.method !== "POST") return;
  const operation = BUILDS[c.req.path];
  const relay = c.req.path === "/vault/submit";
  if (!operation && !relay) return;
  const outcome = c.res.status < 400 ? (relay ? "accepted" : "ok") : await errorCode(c.res);
  const metrics = c.get("services")?.metrics;
  if (relay) metrics?.count("vault_relays_total", { outcome });
  else metrics?.count("vault_builds_total", { operation: operation!, outcome });
};

/** The envelope's error code of a failed response (read from a clone: the client still gets the body). */
async function errorCode(res: Response): Promise<string> {
  try {
    const body = (await res.clone().json()) as { error?: { code?: unknown } };
    const code = body.error?.code;
    return typeof code === "string" && /^[A-Z_]{2,40}$/.test(code) ? code : `HTTP_${res.status}`;
  } catch {
    return `HTTP_${res.status}`;
  }
}
