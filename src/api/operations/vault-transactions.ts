import { and, count, desc, eq, inArray, isNull, not, type SQL } from "drizzle-orm";
import { z } from "zod";
import { TRANSACTION_STATUSES, TRANSACTION_TYPES, transactions } from "../../db/schema.ts";
import { requestView } from "../../vault/lifecycle.ts";
import { PRIVILEGED_TYPES } from "../../vault/requests.ts";
import { ok } from "../envelope.ts";
import { defineOperation } from "../operation.ts";
import { historyData } from "../responses.ts";
import { pageInteger, pubkeySchema } from "../validation.ts";

export default defineOperation({
  method: "get",
  path: "/vault/transactions/{owner}",
  summary: "Transaction history, newest first",
  tag: "read",
  params: z.object({ owner: pubkeySchema }),
  query: z.strictObject({
    limit: pageInteger("page size", 1, 100, 20),
    offset: pageInteger("rows to skip", 0, 1_000_000, 0),
    type: z.enum(TRANSACTION_TYPES).optional(),
    status: z.enum(TRANSACTION_STATUSES).optional(),
  }),
  success: { status: 200, data: historyData },
  errors: ["INVALID_PUBKEY", "VALIDATION_FAILED"],
  handler: async (c, { params, query }) => {
    const owner = params.owner.toBase58();
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
  },
});
