import { and, eq, isNull, lt, or, sql } from "drizzle-orm";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { messageHash } from "../chain/message-hash.ts";
import type { Database } from "../db/client.ts";
import { IDEMPOTENCY_RETENTION_HOURS } from "../db/idempotency.ts";
import { idempotencyKeys } from "../db/schema.ts";
import { AppError } from "../lib/errors.ts";
import type { AppEnv } from "./app-env.ts";
import { toJson } from "./envelope.ts";

const KEY_PATTERN = /^[\x21-\x7e]{1,128}$/;

/**
 * How long a request may hold its key before another request may take it over: longer than any request runs (the
 * relay's RPC calls time out well within it), so only a request whose Worker died mid-flight leaves it stale.
 */
const IN_FLIGHT_LOCK_SECONDS = 120;

type Reply = (status: ContentfulStatusCode, body: string, replayed: boolean) => Response;
type Stored = typeof idempotencyKeys.$inferSelect;

/**
 * The scope of a key: the route plus whose request it is — the vault owner for public routes, the API key's name
 * for privileged ones — so two clients choosing the same key never see each other's responses.
 */
export function idempotencyScope(route: string, subject: string): string {
  return `${route}:${subject}`;
}

/**
 * Runs `handler` at most once per `Idempotency-Key` within `scope`, as payment APIs do:
 * - the first request takes the key (a row without `completed_at`) before it runs;
 * - the same key again while that request is in flight → 409 IDEMPOTENCY_KEY_IN_PROGRESS (retry shortly);
 * - once it finished, the same key and body → the stored response (`Idempotent-Replayed: true`), another body →
 *   422 IDEMPOTENCY_KEY_REUSED;
 * - a 5xx or an unexpected throw releases the key, so a retry after a server fault does the work again;
 * - keys are kept 24 hours (then purged by the minute cron, and treated as unused meanwhile).
 * Without the header the handler simply runs.
 */
export async function idempotent(
  c: Context<AppEnv>,
  scope: string,
  bodyText: string,
  handler: () => Promise<{ status: ContentfulStatusCode; data: unknown }>,
): Promise<Response> {
  const key = c.req.header("idempotency-key");
  const reply: Reply = (status, body, replayed) =>
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
  if (!(await takeKey(db, scope, key, requestHash))) {
    const stored = await lookup(db, scope, key);
    // Purged between the two statements (it was older than the retention): the key is free again.
    if (!stored && (await takeKey(db, scope, key, requestHash)))
      return run(db, scope, key, requestHash, handler, reply);
    if (!stored) throw new AppError("IDEMPOTENCY_KEY_IN_PROGRESS", "A request with this Idempotency-Key is in flight");
    return replayOrRefuse(c, stored, requestHash, reply);
  }
  return run(db, scope, key, requestHash, handler, reply);
}

async function run(
  db: Database,
  scope: string,
  key: string,
  requestHash: string,
  handler: () => Promise<{ status: ContentfulStatusCode; data: unknown }>,
  reply: Reply,
): Promise<Response> {
  let status: ContentfulStatusCode;
  let body: string;
  try {
    const result = await handler();
    status = result.status;
    body = toJson({ success: true, data: result.data });
  } catch (err) {
    if (!(err instanceof AppError) || err.status >= 500) {
      await releaseKey(db, scope, key, requestHash).catch(() => {});
      throw err;
    }
    status = err.status;
    body = toJson({
      success: false,
      error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) },
    });
  }
  await db
    .update(idempotencyKeys)
    .set({ statusCode: status, response: body, completedAt: sql`now()` })
    .where(mine(scope, key, requestHash));
  return reply(status, body, false);
}

/**
 * Takes the key for this request: inserts it, or takes over a row that is past the retention or whose request
 * died in flight. Returns false when another request holds it (in flight or finished).
 */
async function takeKey(db: Database, scope: string, key: string, requestHash: string): Promise<boolean> {
  const taken = await db
    .insert(idempotencyKeys)
    .values({ scope, key, requestHash })
    .onConflictDoUpdate({
      target: [idempotencyKeys.scope, idempotencyKeys.key],
      set: { requestHash, statusCode: null, response: null, createdAt: sql`now()`, completedAt: null },
      setWhere: or(
        lt(idempotencyKeys.createdAt, sql`now() - make_interval(hours => ${IDEMPOTENCY_RETENTION_HOURS})`),
        and(
          isNull(idempotencyKeys.completedAt),
          lt(idempotencyKeys.createdAt, sql`now() - make_interval(secs => ${IN_FLIGHT_LOCK_SECONDS})`),
        ),
      ),
    })
    .returning({ key: idempotencyKeys.key });
  return taken.length > 0;
}

/** Lets the key go after a server fault (only this request's unfinished row). */
async function releaseKey(db: Database, scope: string, key: string, requestHash: string): Promise<void> {
  await db.delete(idempotencyKeys).where(mine(scope, key, requestHash));
}

function mine(scope: string, key: string, requestHash: string) {
  return and(
    eq(idempotencyKeys.scope, scope),
    eq(idempotencyKeys.key, key),
    eq(idempotencyKeys.requestHash, requestHash),
    isNull(idempotencyKeys.completedAt),
  );
}

async function lookup(db: Database, scope: string, key: string): Promise<Stored | null> {
  const [row] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)))
    .limit(1);
  return row ?? null;
}

function replayOrRefuse(c: Context<AppEnv>, stored: Stored, requestHash: string, reply: Reply): Response {
  if (stored.requestHash !== requestHash) {
    throw new AppError(
      "IDEMPOTENCY_KEY_REUSED",
      "This Idempotency-Key was already used with a different request body; use a new key for a new request",
    );
  }
  if (stored.completedAt === null || stored.statusCode === null || stored.response === null) {
    c.header("retry-after", "1");
    throw new AppError(
      "IDEMPOTENCY_KEY_IN_PROGRESS",
      "A request with this Idempotency-Key is still being processed; retry shortly to get its response",
    );
  }
  return reply(stored.statusCode as ContentfulStatusCode, stored.response, true);
}
