import { and, eq, inArray, ne, sql } from "drizzle-orm";
import type { Database, Queryable } from "../db/client.ts";
import { alerts } from "../db/schema.ts";

export type AlertSeverity = "info" | "warning" | "critical";

export interface AlertInput {
  /** What kind of condition, e.g. `unauthorized_authority`, `low_balance`, `reconciliation_mismatch`. */
  kind: string;
  severity: AlertSeverity;
  owner?: string | null;
  /** Identifies the condition: while an alert with this key is unresolved, raising it again does nothing. */
  dedupKey: string;
  message: string;
  details?: Record<string, unknown>;
}

/** The row of a new alert. */
function alertValues(input: AlertInput) {
  return {
    kind: input.kind,
    severity: input.severity,
    owner: input.owner ?? null,
    dedupKey: input.dedupKey,
    message: input.message,
    details: input.details ?? null,
  };
}

/**
 * Raises an alert once per condition: returns the new row's id, or null when an unresolved alert with the same
 * dedup key already exists (no alert storm from a job that sees the same condition every run).
 */
export async function raiseAlert(db: Queryable, input: AlertInput): Promise<bigint | null> {
  const rows = await db
    .insert(alerts)
    .values(alertValues(input))
    .onConflictDoNothing({ target: alerts.dedupKey, where: sql`status <> 'resolved'` })
    .returning({ id: alerts.id });
  return rows[0]?.id ?? null;
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
  for (let attempt = 0; attempt < 3; attempt++) {
    const [row] = await db
      .insert(alerts)
      .values({ ...alertValues(input), count: occurrences })
      .onConflictDoUpdate({
        target: alerts.dedupKey,
        targetWhere: sql`status <> 'resolved'`,
        set: {
          count: sql`${alerts.count} + excluded.count`,
          lastSeenAt: sql`now()`,
          details: sql`coalesce(${alerts.details}, '{}'::jsonb) || jsonb_build_object('last', excluded.details -> 'last')`,
        },
        setWhere: sql`${alerts.createdAt} > now() - ${window}`,
      })
      .returning({ id: alerts.id, count: alerts.count, opened: sql<boolean>`(xmax = 0)` });
    if (row) return row;
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

/** resolveAlert for many keys in one statement; returns how many alerts it resolved. */
export async function resolveAlerts(db: Database, dedupKeys: string[]): Promise<number> {
  if (dedupKeys.length === 0) return 0;
  const rows = await db
    .update(alerts)
    .set({ status: "resolved", resolvedAt: new Date() })
    .where(and(inArray(alerts.dedupKey, dedupKeys), ne(alerts.status, "resolved")))
    .returning({ id: alerts.id });
  return rows.length;
}

export type AlertRow = typeof alerts.$inferSelect;

/** Outcome of an acknowledgement: the alert as it now is, or why it could not be acknowledged. */
export type AckResult = { ok: true; alert: AlertRow } | { ok: false; reason: "not_found" | "resolved" };

/** Acknowledges an open alert (it keeps deduplicating until resolved); acknowledging twice changes nothing. */
export async function acknowledgeAlert(db: Database, id: bigint): Promise<AckResult> {
  const [updated] = await db
    .update(alerts)
    .set({ status: "acknowledged", acknowledgedAt: new Date() })
    .where(and(eq(alerts.id, id), eq(alerts.status, "open")))
    .returning();
  if (updated) return { ok: true, alert: updated };
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
