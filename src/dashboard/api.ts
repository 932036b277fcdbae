/**
 * The page's HTTP client: the typed client (src/client, generated from the OpenAPI document) for the documented
 * operations, a plain `api()` for the rest; the API's envelope, exact integers, and errors in plain words with their
 * code.
 */
import { createVaultClient } from "../client/index.ts";

/** The typed client for this page's own origin. */
export const client = createVaultClient("");

/**
 * Unwraps a typed call: the envelope's `data`, or an ApiError with the refusal's code (NETWORK_ERROR when the server
 * could not be reached).
 */
export async function typed<R extends { data?: unknown; error?: unknown; response: Response }>(
  call: Promise<R>,
): Promise<NonNullable<R["data"]> extends { data: infer T } ? T : never> {
  type T = NonNullable<R["data"]> extends { data: infer D } ? D : never;
  let result: R;
  try {
    result = await call;
  } catch {
    throw new ApiError("NETWORK_ERROR", "The server could not be reached. Is it running?", 0);
  }
  if (result.data !== undefined) return (result.data as { data: T }).data;
  const refusal = (result.error as { error?: { code?: string; message?: string } } | undefined)?.error;
  const status = result.response.status;
  if (refusal?.code) throw new ApiError(refusal.code, refusal.message ?? refusal.code, status);
  throw new ApiError(`HTTP_${status}`, `Unexpected answer from the server (HTTP ${status})`, status);
}

/** An API refusal (or a network failure, code NETWORK_ERROR) ready to show to a person. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status: number) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
  }
}

/** True when the route is not deployed (yet): the page shows "not available" instead of an error. */
export function isMissingRoute(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404 && err.code === "NOT_FOUND";
}

/**
 * JSON.parse keeping integers beyond 2^53 exact (as bigint): u64 amounts arrive as integer literals. Uses the
 * reviver's source text (Chrome 114+, Firefox 135+, Safari 18.4+); elsewhere large values are merely rounded.
 */
export function parseJson(text: string): unknown {
  return JSON.parse(text, (_key, value, context?: { source?: string }) => {
    if (
      typeof value === "number" &&
      !Number.isSafeInteger(value) &&
      context?.source &&
      /^-?\d+$/.test(context.source)
    ) {
      return BigInt(context.source);
    }
    return value;
  });
}

interface Envelope<T> {
  success: boolean;
  data?: T;
  error?: { code: string; message: string };
}

/** Sends a request to the API (same origin unless `base` is given) and unwraps the envelope. */
export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; base?: string } = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${init.base ?? ""}${path}`, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers: { ...(init.body === undefined ? {} : { "content-type": "application/json" }), ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  } catch {
    throw new ApiError("NETWORK_ERROR", "The server could not be reached. Is it running?", 0);
  }
  const text = await res.text();
  let body: Envelope<T> | undefined;
  try {
    body = parseJson(text) as Envelope<T>;
  } catch {
    body = undefined;
  }
  if (body?.success === true) return body.data as T;
  if (body?.error) throw new ApiError(body.error.code, body.error.message, res.status);
  throw new ApiError(`HTTP_${res.status}`, `Unexpected answer from the server (HTTP ${res.status})`, res.status);
}

/** "Not found" and friends in plain words, always followed by the code so it can be looked up. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return `${err.message} (${err.code})`;
  if (err instanceof Error) return `${err.message} (CLIENT_ERROR)`;
  return `${String(err)} (CLIENT_ERROR)`;
}
