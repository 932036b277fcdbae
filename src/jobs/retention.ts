import { eq, type SQL, sql } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import type { Database } from "../db/client.ts";
import { alertEvents, alerts, balanceSnapshots, cursors, jobRuns, reconciliationLogs } from "../db/schema.ts";
import type { Job } from "./types.ts";

/** Rows deleted per table and run at most: a larger backlog drains over the next runs (the run says `partial`). */
export const RETENTION_BATCH = 10_000;
/** The `cursors` row that remembers up to which day balance snapshots are already downsampled. */
export const SNAPSHOT_DOWNSAMPLE_CURSOR = "retention:balance-snapshots";
const DAY_MS = 86_400_000;
/** Days thinned per run at most (a first run over a year of raw snapshots catches up over a few runs). */
const MAX_DAYS_PER_RUN = 31;

type Queryable = Pick<Database, "execute" | "select" | "insert">;

function affected(result: unknown): number {
  return Number((result as { rowCount?: number | null }).rowCount ?? 0);
}

/** Deletes the first RETENTION_BATCH rows `ids` selects (a query of `id`s, oldest first) in one statement. */
async function deleteOldest(db: Queryable, table: PgTable, ids: SQL): Promise<number> {
  return affected(await db.execute(sql`delete from ${table} where id in (${ids} limit ${RETENTION_BATCH})`));
}

/**
 * Five-minute cron: keeps the operational tables the size of their windows (README "Retention"). `job_runs` past
 * RETENTION_JOB_RUNS_DAYS (each job's latest run stays, so the status page still knows it), `reconciliation_logs`
 * past RETENTION_RECONCILIATION_LOGS_DAYS, resolved alerts (with their outbox and delivery rows) resolved longer
 * than RETENTION_RESOLVED_ALERTS_DAYS ago, and balance snapshots: as taken for RETENTION_SNAPSHOTS_RAW_DAYS, then
 * the last of each owner's day, deleted after RETENTION_SNAPSHOTS_DAYS except each owner's latest. The history
 * (`transactions`) is never deleted. Each statement deletes at most RETENTION_BATCH rows.
 */
export const retentionJob: Job = {
  name: "retention",
  async run(_env, _ctx, services) {
    const { db } = services.db();
    const r = services.config.retention;
    const jobRunsDeleted = await deleteJobRuns(db, r.jobRunsDays);
    const logsDeleted = await deleteReconciliationLogs(db, r.reconciliationLogsDays);
    const alertsDeleted = await deleteResolvedAlerts(db, r.resolvedAlertsDays);
    const downsampled = await downsampleSnapshots(db, r.snapshotsRawDays);
    const snapshotsDeleted = await deleteOldSnapshots(db, r.snapshotsDays);
    const partial =
      [jobRunsDeleted, logsDeleted, alertsDeleted, snapshotsDeleted].some((n) => n >= RETENTION_BATCH) ||
      downsampled.partial;
    return {
      jobRunsDeleted,
      reconciliationLogsDeleted: logsDeleted,
      alertsDeleted,
      snapshotsDownsampled: downsampled.deleted,
      snapshotsDownsampledThrough: downsampled.through,
      snapshotsDeleted,
      partial,
    };
  },
};

/** Job runs older than the window, except the newest run of each job. */
export async function deleteJobRuns(db: Queryable, days: number): Promise<number> {
  return deleteOldest(
    db,
    jobRuns,
    sql`select old.id from ${jobRuns} old
        where old.started_at < now() - make_interval(days => ${days})
          and exists (select 1 from ${jobRuns} newer where newer.job = old.job and newer.started_at > old.started_at)
        order by old.started_at`,
  );
}

export async function deleteReconciliationLogs(db: Queryable, days: number): Promise<number> {
  return deleteOldest(
    db,
    reconciliationLogs,
    sql`select id from ${reconciliationLogs}
        where created_at < now() - make_interval(days => ${days})
        order by created_at`,
  );
}

/** Alerts resolved longer ago than the window whose every outbox event went out (their rows cascade). */
export async function deleteResolvedAlerts(db: Queryable, days: number): Promise<number> {
  return deleteOldest(
    db,
    alerts,
    sql`select a.id from ${alerts} a
        where a.status = 'resolved' and a.resolved_at < now() - make_interval(days => ${days})
          and not exists (select 1 from ${alertEvents} e where e.alert_id = a.id and e.dispatched_at is null)
        order by a.resolved_at`,
  );
}

/**
 * Keeps the last snapshot of each owner's day for days older than the raw window, one day at a time from a
 * watermark (`cursors`), so no run reads more than a day's snapshots and rows already thinned are not read again.
 */
export async function downsampleSnapshots(
  db: Queryable,
  rawDays: number,
  now = new Date(),
  cursorName = SNAPSHOT_DOWNSAMPLE_CURSOR,
): Promise<{ deleted: number; through: string | null; partial: boolean }> {
  const target = startOfDay(new Date(now.getTime() - rawDays * DAY_MS));
  const [saved] = await db.select().from(cursors).where(eq(cursors.name, cursorName));
  const savedThrough = (saved?.state as { through?: string } | null)?.through;
  let day = savedThrough ? new Date(savedThrough) : await firstSnapshotDay(db, new Date(0));
  let deleted = 0;
  let partial = false;
  for (let days = 0; day && day < target; days++) {
    if (days >= MAX_DAYS_PER_RUN) {
      partial = true;
      break;
    }
    const next = new Date(day.getTime() + DAY_MS);
    const n = affected(
      await db.execute(sql`
        delete from ${balanceSnapshots} where id in (
          select id from (
            select id, row_number() over (partition by owner order by taken_at desc, id desc) as rank
            from ${balanceSnapshots}
            where taken_at >= ${day.toISOString()} and taken_at < ${next.toISOString()}
          ) day_rows
          where rank > 1
          limit ${RETENTION_BATCH - deleted}
        )`),
    );
    deleted += n;
    if (deleted >= RETENTION_BATCH) {
      // The day may hold more: the next run starts from it again.
      partial = true;
      break;
    }
    const following = await firstSnapshotDay(db, next);
    day = following && following < target ? following : target;
  }
  const through = day ? day.toISOString() : null;
  if (through && through !== savedThrough) {
    await db
      .insert(cursors)
      .values({ name: cursorName, state: { through } })
      .onConflictDoUpdate({ target: cursors.name, set: { state: { through }, updatedAt: sql`now()` } });
  }
  return { deleted, through, partial };
}

/** Snapshots older than the window, except each owner's latest (a quiet vault keeps its last known balance). */
export async function deleteOldSnapshots(db: Queryable, days: number): Promise<number> {
  return deleteOldest(
    db,
    balanceSnapshots,
    sql`select old.id from ${balanceSnapshots} old
        where old.taken_at < now() - make_interval(days => ${days})
          and exists (
            select 1 from ${balanceSnapshots} newer where newer.owner = old.owner and newer.taken_at > old.taken_at
          )
        order by old.taken_at`,
  );
}

/** The UTC day of the first snapshot taken at or after `from`, or null when there is none. */
async function firstSnapshotDay(db: Queryable, from: Date): Promise<Date | null> {
  const [row] = await db
    .select({ first: sql<string | number | null>`extract(epoch from min(${balanceSnapshots.takenAt}))::float8` })
    .from(balanceSnapshots)
    .where(sql`${balanceSnapshots.takenAt} >= ${from.toISOString()}`);
  return row?.first == null ? null : startOfDay(new Date(Number(row.first) * 1000));
}

function startOfDay(d: Date): Date {
  return new Date(Math.floor(d.getTime() / DAY_MS) * DAY_MS);
}
