import { and, eq } from "drizzle-orm";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { idempotencyKeys } from "../db/schema.ts";
import type { AppEnv } from "../env.ts";
import { messageHash } from "../vault/assemble.ts";
import { toJson } from "./envelope.ts";
import { AppError } from "./errors.ts";

const KEY_PATTERN = /^[\x21-\x7e]{1,128}$/;

/**
 * Runs `handler` at most once per `Idempotency-Key` and scope: the same key with the same body replays the stored
 * response (status and body); the same key with another body is refused with IDEMPOTENCY_KEY_REUSED. Responses
 * with a 5xx status are not stored, so a retry after a server fault does the work again. Without the header the
 * handler simply runs.
 */
export async function idempotent(
  c: Context<AppEnv>,
  scope: string,
  bodyText: string,
  handler: () => Promise<{ status: ContentfulStatusCode; data: unknown }>,
): Promise<Response> {
  const key = c.req.header("idempotency-key");
  const reply = (status: ContentfulStatusCode, body: string, replayed: boolean) =>
    c.body(body, status, {
      "content-type": "application/json; charset=utf-8",
      ...(replayed ? { "idempotent-replayed": "true" } : {}),
    });
  if (key === undefined) {
    const { status, data } = await handler();
    return reply(status, toJson({ success: true, data }), false);
  }
  if (!KEY_PATTERN.test(key)) {
    throw new AppError("IDEMPOTENCY_KEY_INVALID", "Idempotency-Key must be 1-128 printable ASCII characters");
  }
  const { db } = c.get("services").db();
  const requestHash = await messageHash(new TextEncoder().encode(`${c.req.method} ${c.req.path}\n${bodyText}`));
  const stored = await lookup(c, scope, key);
  if (stored) return replayOrRefuse(stored, requestHash, reply);
  let status: ContentfulStatusCode;
  let body: string;
  try {
    const result = await handler();
    status = result.status;
    body = toJson({ success: true, data: result.data });
  } catch (err) {
    if (!(err instanceof AppError) || err.status >= 500) throw err;
    status = err.status;
    body = toJson({
      success: false,
      error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) },
    });
  }
  const inserted = await db
    .insert(idempotencyKeys)
    .values({ scope, key, requestHash, statusCode: status, response: body })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key });
  if (inserted.length === 0) {
    // A concurrent request with the same key finished first: its response is the one the key stands for.
    const winner = await lookup(c, scope, key);
    if (winner) return replayOrRefuse(winner, requestHash, reply);
  }
  return reply(status, body, false);
}

type Stored = typeof idempotencyKeys.$inferSelect;

async function lookup(c: Context<AppEnv>, scope: string, key: string): Promise<Stored | null> {
  const { db } = c.get("services").db();
  const [row] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)))
    .limit(1);
  return row ?? null;
}

function replayOrRefuse(
  stored: Stored,
  requestHash: string,
  reply: (status: ContentfulStatusCode, body: string, replayed: boolean) => Response,
): Response {
  if (stored.requestHash !== requestHash) {
    throw new AppError(
      "IDEMPOTENCY_KEY_REUSED",
      "This Idempotency-Key was already used with a different request body; use a new key for a new request",
    );
  }
  return reply(stored.statusCode as ContentfulStatusCode, stored.response, true);
}
