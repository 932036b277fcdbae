/** When the Scheduler counts as stalled (pure: the minute cron's backstop decides with it). */

/** What the rule reads of the Scheduler's status (epoch milliseconds; null when not set or never run). */
export interface SchedulerClock {
  alarmAt: number | null;
  lastRunAt: number | null;
}

/** Unreachable, an alarm overdue by two intervals, or no run for three intervals. */
export function isStalled(status: SchedulerClock | null, intervalMs: number, now: number): boolean {
  if (!status) return true;
  if (status.alarmAt !== null && status.alarmAt < now - 2 * intervalMs) return true;
  return status.lastRunAt !== null && status.lastRunAt < now - 3 * intervalMs;
}
