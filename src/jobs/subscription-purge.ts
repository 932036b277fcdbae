import { sql } from "drizzle-orm";
import { socketSubscribers } from "../db/schema.ts";
import type { Job } from "./types.ts";

/** Rows deleted per run at most (a larger backlog drains over the next minutes; expired rows are not published to). */
export const SUBSCRIPTION_PURGE_BATCH = 5_000;

/**
 * Minute cron: deletes the subscriptions of owners who have had no socket for SUBSCRIPTION_TTL. Publishing already
 * skips them; the purge keeps the table the size of the current listeners. A later connection subscribes again
 * (and its hub marks the gap, so a `since` from before gets resync).
 */
export const subscriptionPurgeJob: Job = {
  name: "subscription-purge",
  async run(_env, _ctx, services) {
    const ttl = services.config.subscriptionTtlSec;
    const result = await services.db().db.execute(sql`
      delete from ${socketSubscribers} where owner in (
        select owner from ${socketSubscribers}
        where not has_sockets and last_socket_at < now() - make_interval(secs => ${ttl})
        limit ${SUBSCRIPTION_PURGE_BATCH}
      )`);
    const purged = Number((result as { rowCount?: number | null }).rowCount ?? 0);
    if (purged === 0) return null;
    return { purged, partial: purged >= SUBSCRIPTION_PURGE_BATCH };
  },
};
