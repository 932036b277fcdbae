import { loadConfig } from "../config.ts";
import type { Bindings } from "../env.ts";
import { createLogger } from "../lib/log.ts";

/** A named job run by a Cron Trigger. */
export interface Job {
  name: string;
  run(env: Bindings, ctx: ExecutionContext): Promise<Record<string, unknown>>;
}

/** Cron expression (as written in wrangler.toml) → the jobs it runs. Jobs are added by later issues. */
export const CRON_JOBS: Record<string, Job[]> = {
  "*/5 * * * *": [],
};

/** The Worker's `scheduled` handler: runs the jobs registered for the trigger's cron expression. */
export async function runScheduled(controller: ScheduledController, env: Bindings, ctx: ExecutionContext) {
  const log = createLogger(loadConfig(env).logLevel, { cron: controller.cron });
  const jobs = CRON_JOBS[controller.cron];
  if (!jobs) {
    log.warn("no jobs registered for cron expression");
    return;
  }
  for (const job of jobs) {
    const started = Date.now();
    try {
      const figures = await job.run(env, ctx);
      log.info("job finished", { job: job.name, ms: Date.now() - started, ...figures });
    } catch (err) {
      log.error("job failed", { job: job.name, ms: Date.now() - started, error: err });
    }
  }
}
