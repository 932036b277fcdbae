import type { RpcPriority } from "../chain/rpc.ts";
import type { Bindings } from "../env.ts";
import type { Services } from "../platform/services.ts";

/** What a job reports: figures for `job_runs`; `partial` marks a run that left work for the next invocation. */
export type JobFigures = Record<string, unknown> & { partial?: boolean };

/** A named background job, run by a Cron Trigger or by the Scheduler Durable Object's alarm. */
export interface Job {
  name: string;
  /** Class of the job's RPC calls in the provider's shared budget (default `background`). */
  rpcPriority?: RpcPriority;
  /** Returns the run's figures, or null when there was nothing due (such runs are not recorded). */
  run(env: Bindings, ctx: JobContext, services: Services): Promise<JobFigures | null>;
}

/** The invocation's context: `waitUntil` for best-effort work that must not hold the job up. */
export interface JobContext {
  waitUntil(promise: Promise<unknown>): void;
}
