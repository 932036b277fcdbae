import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ERROR_STATUS, type ErrorCode } from "./errors.ts";

/** The design document's envelope. */
export type Envelope<T> =
  | { success: true; data: T }
  | { success: false; error: { code: ErrorCode; message: string; details?: Record<string, unknown> } };

/**
 * `JSON.rawJSON` (TC39 "JSON.parse source text access"; V8 11.4+, so workerd at any compatibility date and Node 22):
 * a value JSON.stringify writes verbatim. TypeScript's es2023 lib does not declare it yet.
 */
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/**
 * Serialises a JSON body, writing bigint values as exact integer literals (never rounded through Number). The
 * literal is emitted by the serializer itself, not by rewriting its output, so no string a client sends can turn
 * into a number.
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? rawJSON(v.toString()) : v));
}

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
