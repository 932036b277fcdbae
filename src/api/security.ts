import type { Hono, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import type { AppEnv } from "./app-env.ts";
import { fail } from "./envelope.ts";
import { MAX_BODY_BYTES } from "./validation.ts";

/** Nothing may load, frame or submit anything: right for JSON, redirects and errors. */
const STRICT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const FIXED_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "strict-transport-security": "max-age=31536000; includeSubDomains",
  "cross-origin-opener-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
};

/**
 * Security headers on every response the Worker writes (the dashboard's static assets are served before the Worker
 * and are not covered here). HTML pages (GET /docs) get a CSP that allows exactly their own inline script and style
 * blocks by hash plus same-origin fetches, so the page works without 'unsafe-inline'.
 */
export const securityHeaders: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  // A 101 carries the client end of a WebSocket: its headers are the runtime's, and rebuilding it would drop it.
  if (c.res.status === 101) return;
  const type = c.res.headers.get("content-type") ?? "";
  const csp = type.startsWith("text/html") ? await htmlCsp(await c.res.clone().text()) : STRICT_CSP;
  let res = c.res;
  try {
    res.headers.set("content-security-policy", csp);
  } catch {
    // Responses passed through from a fetch or a Durable Object stub have immutable headers.
    res = new Response(res.body, res);
    res.headers.set("content-security-policy", csp);
  }
  for (const [name, value] of Object.entries(FIXED_HEADERS)) res.headers.set(name, value);
  c.res = res;
};

const cspCache = new Map<string, string>();

/** CSP for one HTML document: sha256 hashes of its inline <script> and <style> blocks (cached per document). */
async function htmlCsp(html: string): Promise<string> {
  const cached = cspCache.get(html);
  if (cached) return cached;
  const scripts = await inlineHashes(html, "script");
  const styles = await inlineHashes(html, "style");
  const csp = [
    "default-src 'none'",
    `script-src ${scripts.join(" ") || "'none'"}`,
    `style-src ${styles.join(" ") || "'none'"}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
  if (cspCache.size < 16) cspCache.set(html, csp);
  return csp;
}

async function inlineHashes(html: string, tag: "script" | "style"): Promise<string[]> {
  const out: string[] = [];
  for (const match of html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g"))) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(match[1]));
    out.push(`'sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}'`);
  }
  return out;
}

/**
 * CORS from `CORS_ORIGINS`: by default no cross-origin browser may read the API (the dashboard is same-origin);
 * listed origins are echoed back, and `*` must be configured explicitly to allow any.
 */
const corsFromConfig: MiddlewareHandler<AppEnv> = (c, next) => {
  const allowed = c.get("services").config.corsOrigins;
  return cors({
    origin: (origin) => (allowed.includes("*") ? "*" : allowed.includes(origin) ? origin : null),
    allowMethods: ["GET", "POST", "OPTIONS"],
    allowHeaders: ["content-type", "x-api-key", "idempotency-key", "x-request-id"],
    exposeHeaders: ["retry-after", "x-request-id"],
    maxAge: 600,
  })(c, next);
};

const tooLarge = (limit: number) => (c: Parameters<MiddlewareHandler<AppEnv>>[0]) =>
  fail(c, "PAYLOAD_TOO_LARGE", `The body must not exceed ${limit} bytes`);
const capped = (bytes: number) => bodyLimit({ maxSize: bytes, onError: tooLarge(bytes) });

/**
 * Registers CORS and body caps (after the services middleware, which they read config from). Every body is capped
 * at MAX_BODY_BYTES except on the paths an operation gives a larger cap (`maxBodyBytes`: the Helius webhook),
 * whatever its framing: a Content-Length over the cap is refused unread, and a chunked body (or one without a length)
 * is counted as it streams and refused as soon as it passes the cap.
 */
export function protect(app: Hono<AppEnv>, largerCaps: Map<string, number>): void {
  app.use("*", corsFromConfig);
  const standard = capped(MAX_BODY_BYTES);
  const larger = new Map([...largerCaps].map(([path, bytes]) => [path, capped(bytes)]));
  app.use("*", (c, next) => (larger.get(c.req.path) ?? standard)(c, next));
}
