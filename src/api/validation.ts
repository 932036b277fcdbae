import type { PublicKey } from "@solana/web3.js";
import type { Context } from "hono";
import { z } from "zod";
import { AMOUNT_PROBLEMS, parseAmount } from "../lib/amount.ts";
import { AppError, type ErrorCode } from "../lib/errors.ts";
import { parsePubkey } from "../lib/pubkey.ts";

/** Largest JSON body any route accepts. */
export const MAX_BODY_BYTES = 16 * 1024;

/** A base58 public key of 32 bytes, parsed to a PublicKey. */
export const pubkeySchema = z
  .string({ error: "must be a base58-encoded public key (string)" })
  .transform((value, ctx) => {
    const key = parsePubkey(value);
    if (!key) {
      ctx.addIssue({
        code: "custom",
        message: "must be a base58-encoded 32-byte public key",
        params: { apiCode: "INVALID_PUBKEY" },
      });
      return z.NEVER;
    }
    return key;
  })
  .meta({ type: "string", description: "Base58-encoded 32-byte public key", example: "7xKt9Fj2abc123..." });

/** A u64 amount in base units: a safe-integer JSON number or a decimal string (STYLE.md §5). */
export const amountSchema = z
  .unknown()
  .transform((value, ctx) => {
    if (value === undefined) {
      ctx.addIssue({ code: "custom", message: "is required", params: { apiCode: "VALIDATION_FAILED" } });
      return z.NEVER;
    }
    const parsed = parseAmount(value);
    if (!parsed.ok) {
      ctx.addIssue({ code: "custom", message: AMOUNT_PROBLEMS[parsed.problem], params: { apiCode: "INVALID_AMOUNT" } });
      return z.NEVER;
    }
    return parsed.value;
  })
  .meta({
    description:
      "Amount in base units (1 USDT = 1000000): a JSON integer up to 2^53-1, or a decimal string up to 2^64-1",
    oneOf: [
      { type: "integer", minimum: 0, maximum: 9007199254740991 },
      { type: "string", pattern: "^[0-9]{1,20}$" },
    ],
  });

/** Optional per-request override of the compute-unit price. */
export const priorityFeeSchema = z
  .strictObject({
    computeUnitPrice: amountSchema.optional(),
    percentile: z.number().int().min(0).max(100).optional(),
  })
  .optional()
  .meta({ description: "Override the compute-unit price (micro-lamports per CU) or the percentile of recent fees" });

/**
 * Reads the request body as JSON: refuses other content types (415), bodies over MAX_BODY_BYTES (413) and malformed
 * JSON (400 INVALID_JSON). Returns the raw text too (idempotency hashes it).
 */
export async function readJsonBody(c: Context): Promise<{ text: string; value: unknown }> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json");
  }
  const declared = Number(c.req.header("content-length") ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  if (bytes.byteLength > MAX_BODY_BYTES) throw tooLarge();
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new AppError("INVALID_JSON", "The body is not valid UTF-8");
  }
  try {
    return { text, value: JSON.parse(text) };
  } catch {
    throw new AppError("INVALID_JSON", "The body is not valid JSON");
  }
}

function tooLarge(): AppError {
  return new AppError("PAYLOAD_TOO_LARGE", `The body must not exceed ${MAX_BODY_BYTES} bytes`);
}

/** Validates with a zod schema; the first problem becomes a coded 400 that names the field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where = "body"): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationError(result.error, where);
}

/**
 * A zod failure as the API's coded 400: the first issue names its field; a schema may carry its own code
 * (`params.apiCode`, e.g. INVALID_PUBKEY), otherwise VALIDATION_FAILED. Also the operations' default hook.
 */
export function validationError(error: z.ZodError, where: string): AppError {
  const issue = error.issues[0]!;
  const field = issue.path.map(String).join(".");
  const apiCode = (issue as { params?: { apiCode?: ErrorCode } }).params?.apiCode;
  if (issue.code === "unrecognized_keys") {
    const keys = (issue as { keys: string[] }).keys;
    return coded(
      "VALIDATION_FAILED",
      `Unknown field${keys.length > 1 ? "s" : ""} in ${where}${field ? `.${field}` : ""}: ${keys.join(", ")}`,
      keys[0],
    );
  }
  if (issue.code === "invalid_type" && issue.input === undefined) {
    return coded("VALIDATION_FAILED", `${field || where} is required`, field);
  }
  const message = field ? `${field} ${lowerFirst(issue.message)}` : `${where} ${lowerFirst(issue.message)}`;
  return coded(apiCode ?? "VALIDATION_FAILED", message, field);
}

function coded(code: ErrorCode, message: string, field?: string): AppError {
  return new AppError(code, message, field ? { field } : undefined);
}

function lowerFirst(s: string): string {
  return s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s;
}

/** A path parameter that must be a public key (404-free: a malformed key is the caller's mistake, 400). */
export function pubkeyParam(value: string | undefined, name: string): PublicKey {
  const key = parsePubkey(value);
  if (!key)
    throw new AppError("INVALID_PUBKEY", `${name} must be a base58-encoded 32-byte public key`, { field: name });
  return key;
}

/** A whole-number query parameter within [min, max], with a default (paging: limit, offset). */
export const pageInteger = (description: string, min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be between ${min} and ${max}`).max(max, `must be between ${min} and ${max}`))
    .default(fallback)
    .meta({ description });
