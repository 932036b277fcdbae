import { and, eq, inArray, ne, sql } from "drizzle-orm";
import type { Database, Queryable } from "../db/client.ts";
import { alertEvents, alerts, auditLog } from "../db/schema.ts";

export type AlertSeverity = "info" | "warning" | "critical";

export interface AlertInput {
  /** What kind of condition, e.g. `unauthorized_caller`, `low_balance`, `reconciliation_mismatch`. */
  kind: string;
  severity: AlertSeverity;
  owner?: string | null;
  /** Identifies the condition: while an alert with this key is unresolved, raising it again does nothing. */
  dedupKey: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * Counts raises, acknowledgements and resolutions made by this isolate. An invocation that sees it move delivers
 * the outbox as it ends (platform/services.ts) — a hint only: the minute cron delivers whatever a hint missed.
 */
let alertActivity = 0;
export const alertActivityCount = (): number => alertActivity;

/**
 * Raises an alert once per condition: returns the new row's id, or null when an unresolved alert with the same
 * dedup key already exists (no alert storm from a job that sees the same condition every run). The same statement
 * writes the `raised` event to the delivery outbox, so a raised alert is never left undelivered.
 */
export async function raiseAlert(db: Queryable, input: AlertInput): Promise<bigint | null> {
  const details = input.details === undefined ? null : JSON.stringify(input.details);
  const result = await db.execute(sql`
    with raised as (
      insert into ${alerts} (kind, severity, owner, dedup_key, message, details)
      values (${input.kind}, ${input.severity}, ${input.owner ?? null}, ${input.dedupKey}, ${input.message}, ${details}::jsonb)
      on conflict (dedup_key) where status <> 'resolved' do nothing
      returning id
    ), outbox as (
      insert into ${alertEvents} (alert_id, event) select id, 'raised' from raised
    )
    select id::text as id from raised`);
  const id = rowsOf<{ id: string }>(result)[0]?.id;
  if (id === undefined) return null;
  alertActivity++;
  return BigInt(id);
}

/** An aggregated alert after an occurrence was folded in. */
export interface AggregatedAlert {
  id: bigint;
  /** Occurrences counted by this alert so far. */
  count: number;
  /** True when this call opened the alert (the first occurrence of its window). */
  opened: boolean;
}

/**
 * Counts `occurrences` of a cause (its dedup key) in one alert per window: the first occurrence opens an alert, and
 * every further one within `windowSec` of that alert's creation only adds to its `count` and `last_seen_at` (and
 * replaces `details.last`). The first occurrence after the window opens a new alert; the old one stays as it was
 * (open, acknowledged or resolved by an operator), filed under `<key>@<its start in unix seconds>`. So an attacker
 * paying a few thousand lamports per transaction makes one alert per window, with a count, not one per transaction.
 */
export async function raiseAggregated(
  db: Queryable,
  input: AlertInput,
  occurrences: number,
  windowSec: number,
): Promise<AggregatedAlert> {
  const window = sql.raw(`interval '${Math.floor(windowSec)} seconds'`);
  const details = input.details === undefined ? null : JSON.stringify(input.details);
  for (let attempt = 0; attempt < 3; attempt++) {
    // One statement: the alert opened (with its `raised` outbox event, as raiseAlert) or its window's count raised.
    const result = await db.execute(sql`
      with counted as (
        insert into ${alerts} (kind, severity, owner, dedup_key, message, details, count)
        values (${input.kind}, ${input.severity}, ${input.owner ?? null}, ${input.dedupKey}, ${input.message},
                ${details}::jsonb, ${occurrences})
        on conflict (dedup_key) where status <> 'resolved' do update set
          count = ${alerts.count} + excluded.count,
          last_seen_at = now(),
          details = coalesce(${alerts.details}, '{}'::jsonb) || jsonb_build_object('last', excluded.details -> 'last')
        where ${alerts.createdAt} > now() - ${window}
        returning id, count, (xmax = 0) as opened
      ), outbox as (
        insert into ${alertEvents} (alert_id, event) select id, 'raised' from counted where opened
      )
      select id::text as id, count, opened from counted`);
    const row = rowsOf<{ id: string; count: number; opened: boolean }>(result)[0];
    if (row) {
      if (row.opened) alertActivity++;
      return { id: BigInt(row.id), count: Number(row.count), opened: row.opened };
    }
    // The open alert's window is over: file it under its start so the cause's key opens a new window.
    await db
      .update(alerts)
      .set({ dedupKey: sql`${alerts.dedupKey} || '@' || extract(epoch from ${alerts.createdAt})::bigint` })
      .where(
        and(
          eq(alerts.dedupKey, input.dedupKey),
          ne(alerts.status, "resolved"),
          sql`${alerts.createdAt} <= now() - ${window}`,
        ),
      );
  }
  throw new Error(`alert ${input.dedupKey}: could not open or count its window`);
}

/** Resolves the unresolved alert with this dedup key (the condition cleared), so it may fire again later. */
export async function resolveAlert(db: Database, dedupKey: string): Promise<boolean> {
  return (await resolveAlerts(db, [dedupKey])) > 0;
}

/** resolveAlert for many keys in one statement (with their `resolved` outbox events); returns how many it resolved. */
export async function resolveAlerts(db: Queryable, dedupKeys: string[]): Promise<number> {
  if (dedupKeys.length === 0) return 0;
  const result = await db.execute(sql`
    with resolved as (
      update ${alerts} set status = 'resolved', resolved_at = now()
      where ${inArray(alerts.dedupKey, dedupKeys)} and status <> 'resolved'
      returning id
    ), outbox as (
      insert into ${alertEvents} (alert_id, event) select id, 'resolved' from resolved
    )
    select count(*)::int as n from resolved`);
  const n = Number(rowsOf<{ n: number }>(result)[0]?.n ?? 0);
  if (n > 0) alertActivity++;
  return n;
}

/** Rows of `db.execute` on either driver (the pool's and the HTTP handle's results both carry `rows`). */
function rowsOf<T>(result: unknown): T[] {
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

export type AlertRow = typeof alerts.$inferSelect;

/** Outcome of an acknowledgement: the alert as it now is, or why it could not be acknowledged. */
export type AckResult = { ok: true; alert: AlertRow } | { ok: false; reason: "not_found" | "resolved" };

/**
 * Acknowledges an open alert (it keeps deduplicating until resolved) on behalf of the API key named `by`, which is
 * stored on the alert and in the audit trail in the same database transaction, with the `acknowledged` outbox event
 * (PagerDuty stops paging, Slack hears who is on it); acknowledging twice changes nothing.
 */
export async function acknowledgeAlert(
  db: Database,
  id: bigint,
  by: { apiKeyName: string; requestId: string | null },
): Promise<AckResult> {
  const updated = await db.transaction(async (tx) => {
    const [row] = await tx
      .update(alerts)
      .set({ status: "acknowledged", acknowledgedAt: new Date(), acknowledgedBy: by.apiKeyName })
      .where(and(eq(alerts.id, id), eq(alerts.status, "open")))
      .returning();
    if (row) {
      await tx.insert(auditLog).values({
        apiKeyName: by.apiKeyName,
        action: "alert.ack",
        outcome: "ok",
        alertId: id,
        requestId: by.requestId,
        details: { kind: row.kind, severity: row.severity, owner: row.owner },
      });
      await tx.insert(alertEvents).values({ alertId: row.id, event: "acknowledged" }).onConflictDoNothing();
    }
    return row;
  });
  if (updated) {
    alertActivity++;
    return { ok: true, alert: updated };
  }
  const [current] = await db.select().from(alerts).where(eq(alerts.id, id)).limit(1);
  if (!current) return { ok: false, reason: "not_found" };
  if (current.status === "resolved") return { ok: false, reason: "resolved" };
  return { ok: true, alert: current };
}

/** Unresolved alerts counted by status and by severity. */
export async function unresolvedCounts(db: Queryable) {
  const rows = await db
    .select({ status: alerts.status, severity: alerts.severity, n: sql<number>`count(*)::int` })
    .from(alerts)
    .where(ne(alerts.status, "resolved"))
    .groupBy(alerts.status, alerts.severity);
  const counts = { open: 0, acknowledged: 0, bySeverity: { info: 0, warning: 0, critical: 0 } };
  for (const r of rows) {
    if (r.status === "open") counts.open += r.n;
    else counts.acknowledged += r.n;
    counts.bySeverity[r.severity as AlertSeverity] += r.n;
  }
  return counts;
}
