import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import type { Bindings } from "../../src/env.ts";
import worker from "../../src/index.ts";

/** Envelope as the API writes it. */
export interface Body<T = Record<string, unknown>> {
  success: boolean;
  data?: T;
  error?: { code: string; message: string; details?: Record<string, unknown> };
}

/** Sends a request to the Worker under test through its real fetch handler. */
export async function call(
  path: string,
  init?: RequestInit,
): Promise<{ status: number; headers: Headers; body: Body }> {
  // `exports.default` is the Worker's own entry point as workerd serves it (ctx.exports typing lags here).
  const entry = (exports as unknown as { default: Fetcher }).default;
  const res = await entry.fetch(new Request(`http://vault.test${path}`, init));
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text) as Body };
}

/** Calls the Worker's fetch handler with some bindings replaced (e.g. an unreachable database). */
export async function callWithEnv(
  overrides: Partial<Record<keyof Bindings, string>>,
  path: string,
  init?: RequestInit,
): Promise<{ status: number; body: Body }> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://vault.test${path}`, init) as Request<unknown, IncomingRequestCfProperties>,
    { ...env, ...overrides } as Bindings,
    ctx,
  );
  const body = (await res.json()) as Body;
  await waitOnExecutionContext(ctx);
  return { status: res.status, body };
}

/** POSTs a JSON body. */
export function postJson(path: string, body: unknown, headers: Record<string, string> = {}) {
  return call(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}
