import { desc, sql } from "drizzle-orm";
import type { Queryable } from "../db/client.ts";
import { cursors, tvlSnapshots } from "../db/schema.ts";
import type { Bindings, Services } from "../env.ts";
import { runJobs } from "../jobs/run-jobs.ts";
import { computeTvl, tvlJob } from "../jobs/tvl.ts";
import type { JobContext } from "../jobs/types.ts";
import { formatUsdt } from "../lib/amount.ts";

export interface TvlFigures {
  /** Backed USDT (see jobs/tvl.ts). */
  totalValueLocked: bigint;
  /** Σ recorded totals of USDT vaults; null for snapshots taken before it was recorded. */
  recordedTotal: bigint | null;
  totalLocked: bigint;
  totalAvailable: bigint;
  activeVaults: number;
  slot: bigint | null;
}

type Snapshot = typeof tvlSnapshots.$inferSelect;

/** The `cursors` row whose `updated_at` is the lease of the one caller that recomputes TVL for everybody. */
const REFRESH_LEASE = "tvl:refresh-lease";
const LEASE_SECONDS = 60;
/** How long callers without a usable snapshot wait for the lease holder's before computing one themselves. */
const WAIT_FOR_SNAPSHOT_MS = 15_000;
const POLL_MS = 250;
/** Per isolate (a number, not an I/O object): until then, its stale answers do not even ask for the lease. */
let refreshingUntil = 0;

/**
 * GET /vault/tvl: the latest TVL snapshot (written by the TVL job from the chain). Recomputing means scanning every
 * vault on chain, so concurrent callers never each recompute:
 * - fresh (≤ 2 × RECONCILIATION_INTERVAL): served;
 * - stale but ≤ 12 × RECONCILIATION_INTERVAL: served as is (its `asOf` says how old) while one caller, holding a
 *   database lease, runs the TVL job behind its response (stale-while-refresh);
 * - none usable (before the job's first run, or a long outage): the lease holder runs the job and answers from the
 *   chain; the others wait for its snapshot (bounded), then compute alone as a last resort.
 * A lease in Postgres rather than a shared promise: workerd forbids awaiting I/O another request started, and the
 * isolates serving a burst are many.
 */
export async function currentTvl(services: Services, env: Bindings, ctx: JobContext) {
  const reads = services.reads();
  const latest = await latestSnapshot(reads);
  const intervalMs = services.config.reconciliationIntervalSec * 1000;
  const age = latest ? Date.now() - latest.takenAt.getTime() : Number.POSITIVE_INFINITY;
  if (latest && age <= 2 * intervalMs) return snapshotView(latest, "snapshot");
  if (latest && age <= 12 * intervalMs) {
    ctx.waitUntil(refreshIfLeased(services, env, ctx));
    return snapshotView(latest, "snapshot");
  }
  if (await takeLease(services)) {
    await refresh(env, ctx);
    const written = await latestSnapshot(reads);
    if (written && written.id !== latest?.id) return snapshotView(written, "chain");
  } else {
    const deadline = Date.now() + WAIT_FOR_SNAPSHOT_MS;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const written = await latestSnapshot(reads);
      if (written && written.id !== latest?.id) return snapshotView(written, "snapshot");
    }
  }
  // The job failed or never delivered: the previous behaviour, computed here (a chain failure is the caller's error).
  const fresh = await computeTvl(services);
  return tvlView({ ...fresh, slot: BigInt(fresh.slot) }, "chain", new Date());
}

async function latestSnapshot(db: Queryable): Promise<Snapshot | undefined> {
  const [latest] = await db.select().from(tvlSnapshots).orderBy(desc(tvlSnapshots.takenAt)).limit(1);
  return latest;
}

/**
 * One autocommit statement, so it rides the HTTP handle: the caller that inserts the lease row, or finds it expired,
 * holds it for LEASE_SECONDS. It is left to expire (a failed refresh is not retried by every following request).
 */
async function takeLease(services: Services): Promise<boolean> {
  const rows = await services
    .reads()
    .insert(cursors)
    .values({ name: REFRESH_LEASE, updatedAt: sql`now()` })
    .onConflictDoUpdate({
      target: cursors.name,
      set: { updatedAt: sql`now()` },
      setWhere: sql`${cursors.updatedAt} < now() - ${sql.raw(`interval '${LEASE_SECONDS} seconds'`)}`,
    })
    .returning({ name: cursors.name });
  return rows.length > 0;
}

/** The TVL job, run as the cron runs it (own pool, recorded in job_runs under the trigger "tvl-read"). */
function refresh(env: Bindings, ctx: JobContext): Promise<void> {
  return runJobs(env, ctx, [tvlJob], "tvl-read");
}

/**
 * Behind a stale answer. Unless its own refresh succeeded, this isolate does not ask again before the lease ends
 * (another holds it, or the chain just failed: not every following request should retry).
 */
async function refreshIfLeased(services: Services, env: Bindings, ctx: JobContext): Promise<void> {
  if (Date.now() < refreshingUntil) return;
  refreshingUntil = Date.now() + LEASE_SECONDS * 1000;
  try {
    if (await takeLease(services)) {
      await refresh(env, ctx);
      refreshingUntil = 0;
    }
  } catch (err) {
    services.log.warn("tvl: background refresh failed", { error: err });
  }
}

function snapshotView(s: Snapshot, source: "snapshot" | "chain") {
  const figures = {
    totalValueLocked: s.totalValueLocked,
    recordedTotal: s.recordedTotal,
    totalLocked: s.totalLocked,
    totalAvailable: s.totalAvailable,
    activeVaults: s.activeVaults,
    slot: s.slot,
  };
  return tvlView(figures, source, s.takenAt);
}

/** TVL counts backed USDT only; the recorded figures (and what of them is unbacked) are reported beside it. */
function tvlView(f: TvlFigures, source: "snapshot" | "chain", asOf: Date) {
  return {
    totalValueLocked: f.totalValueLocked,
    formattedTvl: formatUsdt(f.totalValueLocked, { grouping: true }),
    activeVaults: f.activeVaults,
    recordedTotal: f.recordedTotal,
    unbackedTotal: f.recordedTotal === null ? null : f.recordedTotal - f.totalValueLocked,
    totalLocked: f.totalLocked,
    totalAvailable: f.totalAvailable,
    formattedLocked: formatUsdt(f.totalLocked, { grouping: true }),
    formattedAvailable: formatUsdt(f.totalAvailable, { grouping: true }),
    slot: f.slot,
    asOf: asOf.toISOString(),
    source,
  };
}
