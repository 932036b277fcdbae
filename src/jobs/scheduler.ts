import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../config.ts";
import type { Bindings } from "../env.ts";
import { isRetiredSingleton, retireSingleton, singletonStub } from "../platform/singletons.ts";
import { INTERVAL_JOBS } from "./interval-jobs.ts";
import { runJobs } from "./run-jobs.ts";

/** What the Scheduler reports about itself (its alarm is the sub-minute clock). */
export interface SchedulerStatus {
  intervalSec: number;
  alarmAt: number | null;
  lastRunAt: number | null;
}

const LAST_RUN_KEY = "lastRunAt";

/**
 * One Durable Object (named "scheduler") whose alarm runs the interval jobs every BALANCE_CHECK_INTERVAL seconds:
 * Cron Triggers cannot fire more often than once a minute. The minute cron arms it and runs the jobs itself when
 * the alarm has stopped (see scheduler-backstop.ts).
 */
export class Scheduler extends DurableObject<Bindings> {
  /** RPC: arms the alarm when it is not armed, and reports. */
  async ensure(): Promise<SchedulerStatus> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + this.intervalMs());
    return this.status();
  }

  /** Re-arms first, so a job that throws or hangs cannot stop the clock; alarms are at-least-once anyway. */
  override async alarm(): Promise<void> {
    if (isRetiredSingleton(this.ctx, loadConfig(this.env), SCHEDULER)) return retireSingleton(this.ctx);
    const now = Date.now();
    await this.ctx.storage.setAlarm(now + this.intervalMs());
    await this.ctx.storage.put(LAST_RUN_KEY, now);
    await runJobs(this.env, this.ctx, INTERVAL_JOBS, "scheduler");
  }

  private intervalMs(): number {
    return loadConfig(this.env).balanceCheckIntervalSec * 1000;
  }

  /** RPC: the alarm, the interval and the last run. */
  async status(): Promise<SchedulerStatus> {
    return {
      intervalSec: this.intervalMs() / 1000,
      alarmAt: await this.ctx.storage.getAlarm(),
      lastRunAt: (await this.ctx.storage.get<number>(LAST_RUN_KEY)) ?? null,
    };
  }
}

const SCHEDULER = "scheduler";

/** The single Scheduler's stub (of the current generation, near the database: see singletons.ts). */
export function schedulerStub(env: Bindings): DurableObjectStub<Scheduler> {
  return singletonStub(env.SCHEDULER, loadConfig(env), SCHEDULER);
}
