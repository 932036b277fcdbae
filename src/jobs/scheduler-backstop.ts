import type { Bindings } from "../env.ts";
import type { Services } from "../platform/services.ts";
import { INTERVAL_JOBS } from "./interval-jobs.ts";
import { runJobs } from "./run-jobs.ts";
import { type SchedulerStatus, schedulerStub } from "./scheduler.ts";
import { isStalled } from "./stall.ts";
import type { Job, JobContext } from "./types.ts";

/** The trigger recorded for interval jobs the cron had to run itself. */
export const BACKSTOP_TRIGGER = "cron-backstop";

/**
 * Every minute: arms the Scheduler's alarm if it is not set, and runs the interval jobs itself when the Scheduler
 * cannot be reached or has not run for three intervals. Records nothing of its own (the jobs record their runs).
 */
export const schedulerBackstopJob: Job = {
  name: "scheduler-backstop",
  async run(env, ctx, services) {
    const status = await ensureScheduler(env, services);
    if (isStalled(status, services.config.balanceCheckIntervalSec * 1000, Date.now())) {
      services.log.warn("scheduler stalled: running interval jobs from cron", { status });
      await runJobs(env, ctx as JobContext, INTERVAL_JOBS, BACKSTOP_TRIGGER);
    }
    return null;
  },
};

async function ensureScheduler(env: Bindings, services: Services): Promise<SchedulerStatus | null> {
  try {
    return await schedulerStub(env).ensure();
  } catch (err) {
    services.log.error("scheduler unreachable", { error: err });
    return null;
  }
}
