import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ERROR_STATUS, type ErrorCode } from "../lib/errors.ts";
import { toJson } from "../lib/json.ts";

/** The design document's envelope. */
export type Envelope<T> =
  | { success: true; data: T }
  | { success: false; error: { code: ErrorCode; message: string; details?: Record<string, unknown> } };

export { toJson } from "../lib/json.ts";

/** A success response in the envelope. */
export function ok<T>(c: Context, data: T, status: ContentfulStatusCode = 200): Response {
  return c.body(toJson({ success: true, data }), status, { "content-type": "application/json; charset=utf-8" });
}

/** An error response in the envelope; the status comes from the code's one mapping. */
export function fail(c: Context, code: ErrorCode, message: string, details?: Record<string, unknown>): Response {
  const error = details ? { code, message, details } : { code, message };
  return c.body(toJson({ success: false, error }), ERROR_STATUS[code], {
    "content-type": "application/json; charset=utf-8",
  });
}
