import type { MiddlewareHandler } from "hono";
import type { ApiKey, ApiScope } from "../config.ts";
import { AppError } from "../lib/errors.ts";
import type { AppEnv } from "./app-env.ts";

const encoder = new TextEncoder();

async function sha256(value: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(value)));
}

/** Equal-length digests compared in constant time (workerd's crypto.subtle.timingSafeEqual). */
function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return (
    crypto.subtle as SubtleCrypto & { timingSafeEqual(a: ArrayBufferView, b: ArrayBufferView): boolean }
  ).timingSafeEqual(a, b);
}

/**
 * The configured key matching `presented`, comparing digests in constant time against every key (no early exit,
 * so timing reveals neither which key nor how much of it matched).
 */
export async function matchApiKey(keys: ApiKey[], presented: string): Promise<ApiKey | null> {
  const digest = await sha256(presented);
  let match: ApiKey | null = null;
  for (const key of keys) {
    if (digestsEqual(digest, await sha256(key.key))) match = key;
  }
  return match;
}

/**
 * Requires an `x-api-key` with `scope` (admin keys also pass service routes): missing or unknown key → 401,
 * a valid key without the scope → 403. The key's name (never the key) is logged.
 */
export function requireScope(scope: ApiScope): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const services = c.get("services");
    const presented = c.req.header("x-api-key");
    if (!presented) throw new AppError("UNAUTHORIZED", "This route needs an x-api-key header");
    const key = await matchApiKey(services.config.apiKeys, presented);
    if (!key) throw new AppError("UNAUTHORIZED", "The x-api-key is not valid");
    if (key.scope !== scope && key.scope !== "admin") {
      throw new AppError("FORBIDDEN", `This route needs a key with the ${scope} scope`);
    }
    c.set("apiKeyName", key.name);
    services.log.info("api key accepted", { apiKey: key.name, scope: key.scope });
    await next();
  };
}
