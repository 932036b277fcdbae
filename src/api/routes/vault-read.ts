import { and, count, desc, eq, inArray, isNull, not, type SQL } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { TRANSACTION_STATUSES, TRANSACTION_TYPES, transactions } from "../../db/schema.ts";
import type { AppEnv } from "../../env.ts";
import { vaultBalance } from "../../vault/balance.ts";
import { requestView } from "../../vault/lifecycle.ts";
import { PRIVILEGED_TYPES } from "../../vault/requests.ts";
import { currentTvl } from "../../vault/tvl.ts";
import { ok } from "../envelope.ts";
import { pubkeyParam, validate } from "../validation.ts";

const integer = (name: string, min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be between ${min} and ${max}`).max(max, `must be between ${min} and ${max}`))
    .default(fallback)
    .meta({ description: name });

export const historyQuery = z.strictObject({
  limit: integer("page size", 1, 100, 20),
  offset: integer("rows to skip", 0, 1_000_000, 0),
  type: z.enum(TRANSACTION_TYPES).optional(),
  status: z.enum(TRANSACTION_STATUSES).optional(),
});

/** GET /vault/balance/:owner, GET /vault/transactions/:owner, GET /vault/tvl. */
export const vaultRead = new Hono<AppEnv>()
  .get("/vault/balance/:owner", async (c) => {
    const owner = pubkeyParam(c.req.param("owner"), "owner");
    return ok(c, await vaultBalance(c.get("services"), owner));
  })
  .get("/vault/transactions/:owner", async (c) => {
    const owner = pubkeyParam(c.req.param("owner"), "owner").toBase58();
    const query = validate(historyQuery, c.req.query(), "query");
    const db = c.get("services").reads();
    const filters: SQL[] = [
      eq(transactions.vaultOwner, owner),
      // A privileged request (a lock or a liquidation transfer built for an exchange service) is not public until its
      // transaction lands: until then it is only an intention, and possibly one that is never signed.
      not(and(inArray(transactions.transactionType, [...PRIVILEGED_TYPES]), isNull(transactions.slot))!),
    ];
    if (query.type) filters.push(eq(transactions.transactionType, query.type));
    if (query.status) filters.push(eq(transactions.status, query.status));
    const where = and(...filters);
    // One HTTP request for both statements (Neon runs a batch in one transaction: the page and its total agree).
    const [rows, totals] = await db.batch([
      db
        .select()
        .from(transactions)
        .where(where)
        .orderBy(desc(transactions.createdAt), desc(transactions.id))
        .limit(query.limit)
        .offset(query.offset),
      db.select({ total: count() }).from(transactions).where(where),
    ]);
    const total = totals[0]?.total ?? 0;
    return ok(c, { owner, transactions: rows.map(requestView), total, limit: query.limit, offset: query.offset });
  })
  .get("/vault/tvl", async (c) => ok(c, await currentTvl(c.get("services"))));
