import { inArray, sql } from "drizzle-orm";
import { cursors } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { chainStream } from "../ingest/chain-stream.ts";
import { cursorName, lookedAtName } from "../ingest/pipeline.ts";
import { ALL_JOBS } from "../jobs/dispatch.ts";
import { latestSafetyCheck, type SafetyFigures } from "../jobs/program-safety.ts";
import { readState } from "../jobs/reconcile-cursor.ts";
import { type SchedulerStatus, schedulerStub } from "../jobs/scheduler.ts";
import { VERSION } from "../lib/version.ts";
import { unresolvedCounts } from "../platform/alerts.ts";
import { latestRuns } from "../platform/runs.ts";
import type { Services } from "../platform/services.ts";

const CHECK_TIMEOUT_MS = 3_000;

function withTimeout<T>(work: Promise<T>, ms = CHECK_TIMEOUT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}

/** A check that never throws: the value, or null and a logged reason. */
export async function attempt<T>(services: Services, what: string, work: () => Promise<T>): Promise<T | null> {
  try {
    return await withTimeout(work());
  } catch (err) {
    services.log.warn(`monitor: ${what} failed`, { error: err });
    return null;
  }
}

/**
 * The design document's system status: each job's last run, reconciliation progress, the Scheduler, ingestion lag
 * (slots and seconds behind the confirmed head, from the ingestion cursor), RPC and database health, open alerts.
 */
export async function systemStatus(env: Bindings, services: Services) {
  // Each check is one statement: over HTTP, in parallel, without opening a pool.
  const db = services.reads();
  const [database, slot, runs, reconciliation, scheduler, alerts, cursor, safety, push] = await Promise.all([
    attempt(services, "database", async () => {
      await db.execute(sql`select 1`);
      return true;
    }),
    attempt(services, "rpc", () => services.rpc.call<number>("getSlot", [{ commitment: "confirmed" }])),
    attempt(services, "job runs", () => latestRuns(db, ALL_JOBS)),
    attempt(services, "reconciliation state", () => readState(db)),
    attempt(services, "scheduler", () => schedulerStatus(env)),
    attempt(services, "alerts", () => unresolvedCounts(db)),
    attempt(services, "ingestion cursor", () => ingestionCursor(services)),
    attempt(services, "program safety", () => latestSafetyCheck(db)),
    attempt(services, "chain push", () => chainStream(env).status()),
  ]);
  const jobs = ALL_JOBS.map((job) => {
    const run = runs?.get(job) ?? null;
    return {
      job,
      lastRun: run && {
        trigger: run.trigger,
        startedAt: run.startedAt.toISOString(),
        durationMs: run.durationMs,
        outcome: run.outcome,
        figures: run.figures,
        error: run.error,
      },
    };
  });
  const ingestion = await ingestionLag(services, cursor, slot);
  const degraded =
    database !== true ||
    slot === null ||
    jobs.some((j) => j.lastRun?.outcome === "error") ||
    (alerts?.bySeverity.critical ?? 0) > 0;
  return {
    status: degraded ? "degraded" : "healthy",
    version: VERSION,
    time: new Date().toISOString(),
    database: { healthy: database === true },
    rpc: { healthy: slot !== null, slot },
    jobs,
    reconciliation: reconciliation && {
      roundInProgress: reconciliation.round !== null,
      round: reconciliation.round && {
        startedAt: reconciliation.round.startedAt,
        lastKey: reconciliation.round.lastKey,
        batches: reconciliation.round.batches,
        invocations: reconciliation.round.invocations,
      },
      lastRound: reconciliation.lastRound,
    },
    scheduler,
    ingestion: { ...ingestion, push },
    alerts,
    programSafety: programSafetyView(safety),
  };
}

/**
 * Whether a stranger can lock, unlock or transfer a vault's collateral, as the last simulation found it, with the
 * time it was checked (`unchecked` before the first check).
 */
function programSafetyView(s: SafetyFigures | null) {
  if (!s) return { status: "unchecked" as const, checkedAt: null };
  return {
    status: s.status,
    checkedAt: s.checkedAt,
    operations: s.operations,
    reason: s.reason,
    vault: s.vault,
    destinationVault: s.destinationVault,
    stranger: s.stranger,
    feePayer: s.feePayer,
    slot: s.slot,
    programId: s.programId,
    version: s.version,
  };
}

async function schedulerStatus(env: Bindings): Promise<SchedulerStatus> {
  return schedulerStub(env).status();
}

export async function ingestionCursor(services: Services) {
  const name = cursorName(services.config.programId.toBase58());
  const rows = await services
    .reads()
    .select()
    .from(cursors)
    .where(inArray(cursors.name, [name, lookedAtName(name)]));
  return {
    name,
    row: rows.find((r) => r.name === name) ?? null,
    looked: rows.find((r) => r.name === lookedAtName(name)) ?? null,
  };
}

/**
 * Ingestion lag: the confirmed head minus the slot up to which ingestion has *looked* (the head a complete pass
 * started from), not the last transaction it found — a quiet program is not "behind". Seconds: the head slot's age
 * at that slot's block time, else the time since the look was recorded. Null (unknown) without a look or a head.
 */
export async function ingestionLag(
  services: Services,
  cursor: Awaited<ReturnType<typeof ingestionCursor>> | null,
  head: number | null,
) {
  const found = cursor?.row?.slot ?? null;
  const looked = cursor?.looked?.slot ?? null;
  const slot = looked !== null && (found === null || looked > found) ? looked : found;
  const base = {
    cursor: cursor?.name ?? null,
    slot,
    lookedAtSlot: looked,
    lookedAt: cursor?.looked?.updatedAt.toISOString() ?? null,
    lastTransactionSlot: found,
    signature: cursor?.row?.signature ?? null,
    updatedAt: cursor?.row?.updatedAt.toISOString() ?? null,
  };
  if (slot === null || head === null) return { ...base, lagSlots: null, lagSeconds: null };
  const blockTime = await attempt(services, "block time", () =>
    services.rpc.call<number | null>("getBlockTime", [Number(slot)]),
  );
  const since =
    blockTime != null
      ? Date.now() / 1000 - blockTime
      : cursor?.looked
        ? (Date.now() - cursor.looked.updatedAt.getTime()) / 1000
        : null;
  return {
    ...base,
    lagSlots: Math.max(0, head - Number(slot)),
    lagSeconds: since === null ? null : Math.max(0, Math.round(since)),
  };
}
