import { PURGE_BATCH, purgeIdempotencyKeys } from "../db/idempotency.ts";
import type { Job } from "./types.ts";

/**
 * Minute cron: deletes Idempotency-Keys past their 24-hour retention, at most PURGE_BATCH a run (a larger backlog
 * drains over the next minutes; meanwhile an expired key is treated as unused anyway).
 */
export const idempotencyPurgeJob: Job = {
  name: "idempotency-purge",
  async run(_env, _ctx, services) {
    const purged = await purgeIdempotencyKeys(services.db().db);
    if (purged === 0) return null;
    return { purged, partial: purged >= PURGE_BATCH };
  },
};
