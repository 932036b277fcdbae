import { and, desc, eq, ne } from "drizzle-orm";
import pkg from "../../package.json" with { type: "json" };
import type { Queryable } from "../db/client.ts";
import { jobRuns } from "../db/schema.ts";
import { raiseAlert, resolveAlert } from "../platform/alerts.ts";
import type { Services } from "../platform/services.ts";
import { probeProgramSafety, type SafetyResult } from "./program-safety-check.ts";
import type { Job } from "./types.ts";

export const PROGRAM_SAFETY_JOB = "program-safety";
const ALERT_KEY = "program_exposed";
/** An untested, inconclusive or failed check is tried again this soon, not a day later. */
const RETRY_SEC = 600;

/** The check's figures as stored in `job_runs` (the result, plus what it was run against). */
export type SafetyFigures = SafetyResult & { version: string; programId: string };

/**
 * Program safety by simulation (jobs/program-safety-check.ts), from the minute cron: on start — the first tick with no
 * check yet, or after a deploy of another version or program id — then every PROGRAM_SAFETY_INTERVAL; an untested,
 * inconclusive or failed check is retried after 10 minutes. A program that lets a stranger move collateral keeps one
 * critical `program_exposed` alert open; a check that finds it safe resolves it.
 */
export const programSafetyJob: Job = {
  name: PROGRAM_SAFETY_JOB,
  async run(_env, _ctx, services) {
    const programId = services.config.programId.toBase58();
    if (!isDue(await lastCheck(services.reads()), services, programId, Date.now())) return null;
    const result = await probeProgramSafety(services);
    await alertOn(services, result);
    const figures: SafetyFigures = { ...result, version: pkg.version, programId };
    return { ...figures, partial: result.status === "untested" || result.status === "inconclusive" };
  },
};

/** The latest check's run row (any outcome), or null before the first. */
async function lastCheck(db: Queryable) {
  const [row] = await db
    .select()
    .from(jobRuns)
    .where(eq(jobRuns.job, PROGRAM_SAFETY_JOB))
    .orderBy(desc(jobRuns.startedAt))
    .limit(1);
  return row ?? null;
}

function isDue(last: Awaited<ReturnType<typeof lastCheck>>, services: Services, programId: string, now: number) {
  if (!last) return true;
  const figures = last.figures as Partial<SafetyFigures> | null;
  if (figures && (figures.version !== pkg.version || figures.programId !== programId)) return true;
  const every = services.config.programSafetyIntervalSec;
  const interval = last.outcome === "ok" ? every : Math.min(every, RETRY_SEC);
  return now - last.startedAt.getTime() >= interval * 1000;
}

async function alertOn(services: Services, r: SafetyResult): Promise<void> {
  const { db } = services.db();
  if (r.status === "safe") {
    await resolveAlert(db, ALERT_KEY);
    return;
  }
  if (r.status !== "exposed" || !r.operations) return;
  const exposed = Object.entries(r.operations)
    .filter(([, o]) => o.outcome === "exposed")
    .map(([op]) => op);
  await raiseAlert(db, {
    kind: "program_exposed",
    severity: "critical",
    dedupKey: ALERT_KEY,
    message: `A stranger can ${exposed.join(", ")} any vault's collateral: simulated against vault ${r.vault} (program bug §8.1)`,
    details: { checkedAt: r.checkedAt, vault: r.vault, operations: r.operations },
  });
}

/** The latest check that ran (not an error), for /monitor/status; null before the first. */
export async function latestSafetyCheck(db: Queryable): Promise<SafetyFigures | null> {
  const [row] = await db
    .select({ figures: jobRuns.figures })
    .from(jobRuns)
    .where(and(eq(jobRuns.job, PROGRAM_SAFETY_JOB), ne(jobRuns.outcome, "error")))
    .orderBy(desc(jobRuns.startedAt))
    .limit(1);
  return (row?.figures as SafetyFigures | undefined) ?? null;
}
