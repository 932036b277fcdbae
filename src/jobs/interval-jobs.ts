import { balanceSnapshotsJob } from "./balance-snapshots.ts";
import { lowBalanceJob } from "./low-balance.ts";
import type { Job } from "./types.ts";

/** Jobs run every BALANCE_CHECK_INTERVAL by the Scheduler Durable Object (the minute cron is their backstop). */
export const INTERVAL_JOBS: Job[] = [balanceSnapshotsJob, lowBalanceJob];
