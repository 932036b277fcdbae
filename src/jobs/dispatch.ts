import type { Bindings } from "../env.ts";
import { backgroundServices } from "../platform/services.ts";
import { alertDeliveryJob } from "./alert-delivery.ts";
import { idempotencyPurgeJob } from "./idempotency-purge.ts";
import { ingestJob } from "./ingest.ts";
import { INTERVAL_JOBS } from "./interval-jobs.ts";
import { programSafetyJob } from "./program-safety.ts";
import { reconciliationJob } from "./reconciliation.ts";
import { retentionJob } from "./retention.ts";
import { runJobs } from "./run-jobs.ts";
import { schedulerBackstopJob } from "./scheduler-backstop.ts";
import { subscriptionPurgeJob } from "./subscription-purge.ts";
import { tvlJob } from "./tvl.ts";
import type { Job } from "./types.ts";

export { runJobs } from "./run-jobs.ts";
export type { Job } from "./types.ts";

/** Cron expression (exactly as in wrangler.toml `[triggers] crons`) → the jobs it runs, in order. */
export const CRON_JOBS: Record<string, Job[]> = {
  // programSafetyJob runs its probe only when due (on start, then daily): most ticks it reads one row.
  "* * * * *": [
    ingestJob,
    reconciliationJob,
    programSafetyJob,
    schedulerBackstopJob,
    alertDeliveryJob,
    idempotencyPurgeJob,
    subscriptionPurgeJob,
  ],
  "*/5 * * * *": [tvlJob, retentionJob],
};

/** Every job that records runs (the backstop records none of its own), for /monitor/status. */
export const ALL_JOBS: string[] = [
  ...new Set([...Object.values(CRON_JOBS).flat(), ...INTERVAL_JOBS].map((j) => j.name)),
].filter((name) => name !== schedulerBackstopJob.name);

/** The Worker's `scheduled` handler: runs the jobs registered for the trigger's cron expression. */
export async function runScheduled(controller: ScheduledController, env: Bindings, ctx: ExecutionContext) {
  const jobs = CRON_JOBS[controller.cron];
  if (!jobs) {
    backgroundServices(env, { cron: controller.cron }).log.warn("no jobs registered for cron expression");
    return;
  }
  await runJobs(env, ctx, jobs, controller.cron);
}
