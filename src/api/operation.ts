/**
 * One HTTP operation, owned by one module under src/api/operations/: its path, request schemas, success body, error
 * codes, auth scope and rate-limit class. The app mounts every operation from this description and the OpenAPI
 * document is generated from the same objects (@hono/zod-openapi), so nothing about an endpoint lives in a list
 * elsewhere.
 */
import { createRoute, type OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { z } from "zod";
import type { ApiScope } from "../config.ts";
import { ERROR_STATUS, type ErrorCode } from "../lib/errors.ts";
import type { AppEnv } from "./app-env.ts";
import { requireScope } from "./auth.ts";
import { type LimitClass, limitFor } from "./rate-limit.ts";
import { readJsonBody, validate, validationError } from "./validation.ts";

/** What a handler receives besides the context: the validated inputs (and the raw body, which idempotency hashes). */
export interface OperationInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  bodyText: string;
}

/** The success answer: the JSON envelope with `data` of this schema, or another media type (Prometheus text, HTML). */
export type Success =
  | { status: 200 | 202 | 503; data: z.ZodType; description?: string }
  | { status: 200 | 101 | 302; contentType?: string; schema?: z.ZodType; description: string };

export interface Operation<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  method: "get" | "post";
  /** OpenAPI form: /vault/balance/{owner}. */
  path: string;
  summary: string;
  tag: string;
  params?: P;
  query?: Q;
  /** A JSON body (read strictly: media type, size, UTF-8, JSON) validated with this schema. */
  body?: B;
  /** A body cap above the API's MAX_BODY_BYTES (the Helius webhook's batches); refused with 413 past it. */
  maxBodyBytes?: number;
  /** Requires an x-api-key with this scope (admin keys also pass service operations). */
  scope?: ApiScope;
  /** The rate-limit class (src/api/rate-limit.ts); none: not limited per client. */
  limit?: LimitClass;
  /** The success answers; a second entry documents another success status (e.g. health's 503 in the envelope). */
  success: Success | Success[];
  /** Every coded error this operation can answer besides the common ones (COMMON_ERRORS). */
  errors: readonly ErrorCode[];
  handler(
    c: Context<AppEnv>,
    input: OperationInput<z.output<P>, z.output<Q>, z.output<B>>,
  ): Response | Promise<Response>;
}

/** Keeps an operation's types (its handler sees its own schemas' outputs). */
export function defineOperation<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  op: Operation<P, Q, B>,
): Operation<P, Q, B> {
  return op;
}

/** Errors any operation may answer: a server fault, a misconfiguration, an unreachable RPC or database. */
export const COMMON_ERRORS: readonly ErrorCode[] = [
  "INTERNAL_ERROR",
  "CONFIG_INVALID",
  "UPSTREAM_UNAVAILABLE",
  "SERVICE_UNAVAILABLE",
];

/** Errors of reading and validating a JSON body, and of Idempotency-Key (every POST with a body takes one). */
export const BODY_ERRORS: readonly ErrorCode[] = [
  "INVALID_JSON",
  "VALIDATION_FAILED",
  "UNSUPPORTED_MEDIA_TYPE",
  "PAYLOAD_TOO_LARGE",
  "IDEMPOTENCY_KEY_INVALID",
  "IDEMPOTENCY_KEY_REUSED",
  "IDEMPOTENCY_KEY_IN_PROGRESS",
];

/** The error envelope, one component of the document. */
export const errorEnvelope = z
  .object({
    success: z.literal(false),
    error: z.object({
      code: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: "Error" });

/** The success envelope around `data`. */
export const successEnvelope = (data: z.ZodType) => z.object({ success: z.literal(true), data });

/**
 * The default hook: a request that fails its params or query schema gets today's coded 400 (validation.ts names
 * the field; a schema may carry its own code, e.g. INVALID_PUBKEY), never the library's own body.
 */
export function validationHook(
  result: { success: true } | { success: false; error: z.ZodError; target: string },
): void {
  if (result.success) return;
  throw validationError(result.error, result.target === "param" ? "path" : result.target);
}

/** Reads and validates the JSON body before the handler: coded refusals, and the raw text kept for idempotency. */
const jsonBody =
  (schema: z.ZodType): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const { text, value } = await readJsonBody(c);
    c.set("body", { text, value: validate(schema, value) });
    await next();
  };

/** The operation's route as the OpenAPI document describes it. */
export function describedRoute(op: Operation): RouteConfig {
  const errors = documentedErrors(op);
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errors) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  const responses: RouteConfig["responses"] = {};
  for (const [status, codes] of [...byStatus].sort((x, y) => x[0] - y[0])) {
    responses[status] = {
      description: codes.join(", "),
      content: {
        "application/json": {
          schema: errorEnvelope,
          examples: Object.fromEntries(
            codes.map((code) => [code, { value: { success: false, error: { code, message: "…" } } }]),
          ),
        },
      },
    };
  }
  for (const s of Array.isArray(op.success) ? op.success : [op.success]) {
    if (!("data" in s)) {
      responses[s.status] = {
        description: s.description,
        ...(s.contentType ? { content: { [s.contentType]: { schema: s.schema ?? z.string() } } } : {}),
      };
      continue;
    }
    // A status that is also an error's (health's 503): either body, told apart by `success`.
    const clash = responses[s.status] as { description: string } | undefined;
    responses[s.status] = {
      description: clash ? `${s.description ?? "Success"}; or ${clash.description}` : (s.description ?? "Success"),
      content: {
        "application/json": {
          schema: clash ? z.union([successEnvelope(s.data), errorEnvelope]) : successEnvelope(s.data),
        },
      },
    };
  }
  return createRoute({
    method: op.method,
    path: op.path,
    summary: op.summary,
    tags: [op.tag],
    request: {
      ...(op.params ? { params: op.params as never } : {}),
      ...(op.query ? { query: op.query as never } : {}),
      ...(op.body
        ? {
            headers: z.object({
              "idempotency-key": z
                .string()
                .optional()
                .meta({ description: "Runs the request at most once per key (1-128 printable ASCII), kept 24 hours" }),
            }) as never,
            body: { required: true, content: { "application/json": { schema: op.body } } },
          }
        : {}),
    },
    ...(op.scope ? { security: [{ apiKey: [] }], "x-required-scope": op.scope } : {}),
    responses,
  });
}

const AUTH_ERRORS: readonly ErrorCode[] = ["UNAUTHORIZED", "FORBIDDEN"];

/** Every code an operation documents: its own, the common ones, the key's when scoped, 429 when rate limited. */
export function documentedErrors(op: Operation): ErrorCode[] {
  return [
    ...new Set([
      ...op.errors,
      ...COMMON_ERRORS,
      ...(op.scope ? AUTH_ERRORS : []),
      ...(op.limit ? (["RATE_LIMITED"] as const) : []),
    ]),
  ];
}

/**
 * Mounts an operation: rate limit, then the key's scope, then the body, then params and query (validated by the
 * library with the default hook), then the handler. The body is read here rather than by the library's validator:
 * idempotency hashes the raw text, and the refusals (415, invalid UTF-8, malformed JSON) keep their codes.
 */
export function mountOperation(app: OpenAPIHono<AppEnv>, op: Operation): void {
  app.openAPIRegistry.registerPath(describedRoute(op));
  const middleware: MiddlewareHandler<AppEnv>[] = [];
  if (op.limit) middleware.push(limitFor(op.limit));
  if (op.scope) middleware.push(requireScope(op.scope));
  if (op.body) middleware.push(jsonBody(op.body));
  const route = createRoute({
    method: op.method,
    path: op.path,
    hide: true,
    middleware: middleware as never,
    request: {
      ...(op.params ? { params: op.params as never } : {}),
      ...(op.query ? { query: op.query as never } : {}),
    },
    responses: {},
  });
  app.openapi(route, (async (c: Context<AppEnv>) => {
    const req = c.req as unknown as { valid(target: string): unknown };
    const body = c.get("body");
    return op.handler(c, {
      params: op.params ? req.valid("param") : undefined,
      query: op.query ? req.valid("query") : undefined,
      body: body?.value,
      bodyText: body?.text ?? "",
    });
  }) as never);
}
