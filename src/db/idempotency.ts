import { sql } from "drizzle-orm";
import type { Database } from "./client.ts";
import { idempotencyKeys } from "./schema.ts";

/** How long a key is kept (and replays its response); after that the same key is a new request. */
export const IDEMPOTENCY_RETENTION_HOURS = 24;
/** Rows the minute cron deletes per run (a bounded statement, whatever the backlog). */
export const PURGE_BATCH = 5_000;

/** Deletes up to PURGE_BATCH keys older than the retention; returns how many (the minute cron's job). */
export async function purgeIdempotencyKeys(db: Database, limit = PURGE_BATCH): Promise<number> {
  const result = await db.execute(sql`
    delete from ${idempotencyKeys} where ctid in (
      select ctid from ${idempotencyKeys}
      where ${idempotencyKeys.createdAt} < now() - make_interval(hours => ${IDEMPOTENCY_RETENTION_HOURS})
      limit ${limit}
    )`);
  return result.rowCount ?? 0;
}
