import { and, eq, inArray, ne, sql } from "drizzle-orm";
import type { Database, Queryable } from "../db/client.ts";
import { alerts, auditLog } from "../db/schema.ts";

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

/**
 * Raises an alert once per condition: returns the new row's id, or null when an unresolved alert with the same
 * dedup key already exists (no alert storm from a job that sees the same condition every run).
 */
export async function raiseAlert(db: Queryable, input: AlertInput): Promise<bigint | null> {
  const rows = await db
    .insert(alerts)
    .values({
      kind: input.kind,
      severity: input.severity,
      owner: input.owner ?? null,
      dedupKey: input.dedupKey,
      message: input.message,
      details: input.details ?? null,
    })
    .onConflictDoNothing({ target: alerts.dedupKey, where: sql`status <> 'resolved'` })
    .returning({ id: alerts.id });
  return rows[0]?.id ?? null;
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

/**
 * Acknowledges an open alert (it keeps deduplicating until resolved) on behalf of the API key named `by`, which is
 * stored on the alert and in the audit trail in the same database transaction; acknowledging twice changes nothing.
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
    }
    return row;
  });
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
