import { and, desc, eq, sql } from "drizzle-orm";
import type { Database, Queryable } from "../db/client.ts";
import { jobRuns } from "../db/schema.ts";

export type JobOutcome = "ok" | "error" | "partial";

export interface JobRunRecord {
  job: string;
  trigger: string;
  startedAt: Date;
  durationMs: number;
  outcome: JobOutcome;
  figures: Record<string, unknown> | null;
  error: string | null;
}

/** bigint figures become decimal strings: jsonb goes through JSON.stringify, which refuses bigint. */
function jsonSafe(value: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
}

/** Writes one `job_runs` row. */
export async function recordJobRun(db: Database, run: JobRunRecord): Promise<void> {
  await db.insert(jobRuns).values({
    job: run.job,
    trigger: run.trigger,
    startedAt: run.startedAt,
    durationMs: run.durationMs,
    outcome: run.outcome,
    figures: run.figures ? jsonSafe(run.figures) : null,
    error: run.error,
  });
}

export type JobRunRow = typeof jobRuns.$inferSelect;

/** The latest run of each named job (null for a job that never ran). */
export async function latestRuns(db: Queryable, jobs: string[]): Promise<Map<string, JobRunRow | null>> {
  const rows = await Promise.all(
    jobs.map((job) => db.select().from(jobRuns).where(eq(jobRuns.job, job)).orderBy(desc(jobRuns.startedAt)).limit(1)),
  );
  return new Map(jobs.map((job, i) => [job, rows[i]?.[0] ?? null]));
}

/** When the job last started a run that did not fail (ok or partial), or null. */
export async function lastSuccess(db: Database, job: string): Promise<Date | null> {
  const [row] = await db
    .select({ at: jobRuns.startedAt })
    .from(jobRuns)
    .where(and(eq(jobRuns.job, job), sql`${jobRuns.outcome} <> 'error'`))
    .orderBy(desc(jobRuns.startedAt))
    .limit(1);
  return row?.at ?? null;
}
