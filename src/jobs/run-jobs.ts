import type { Bindings } from "../env.ts";
import { describeError } from "../lib/log.ts";
import { type JobRunRecord, recordJobRun } from "../platform/runs.ts";
import { backgroundServices } from "../platform/services.ts";
import type { Job, JobContext } from "./types.ts";

/**
 * Runs jobs one after another with one set of services, recording each run in `job_runs` (duration, outcome,
 * figures or error). A failing job is recorded and logged; the next job still runs.
 */
export async function runJobs(env: Bindings, ctx: JobContext, jobs: Job[], trigger: string): Promise<void> {
  const services = backgroundServices(env, { trigger }, "background");
  try {
    for (const job of jobs) {
      services.rpc.priority = job.rpcPriority ?? "background";
      const startedAt = new Date();
      let record: JobRunRecord;
      try {
        const figures = await job.run(env, ctx, services);
        if (!figures) continue;
        const { partial, ...rest } = figures;
        record = {
          job: job.name,
          trigger,
          startedAt,
          durationMs: 0,
          outcome: partial ? "partial" : "ok",
          figures: rest,
          error: null,
        };
      } catch (err) {
        const { name, message } = describeError(err);
        record = {
          job: job.name,
          trigger,
          startedAt,
          durationMs: 0,
          outcome: "error",
          figures: null,
          error: `${name}: ${message}`,
        };
      }
      record.durationMs = Date.now() - startedAt.getTime();
      services.metrics.count("vault_job_runs_total", { job: job.name, outcome: record.outcome });
      services.metrics.count("vault_job_duration_seconds_total", { job: job.name }, record.durationMs / 1000, true);
      const level = record.outcome === "error" ? "error" : "info";
      services.log[level]("job finished", {
        job: job.name,
        ms: record.durationMs,
        outcome: record.outcome,
        ...record.figures,
        error: record.error ?? undefined,
      });
      await recordJobRun(services.db().db, record).catch((err) =>
        services.log.error("job run not recorded", { job: job.name, error: err }),
      );
    }
  } finally {
    await services.close();
  }
}
