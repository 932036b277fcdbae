import { and, eq, ne, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
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

/**
 * Raises an alert once per condition: returns the new row's id, or null when an unresolved alert with the same
 * dedup key already exists (no alert storm from a job that sees the same condition every run).
 */
export async function raiseAlert(db: Database, input: AlertInput): Promise<bigint | null> {
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
  const rows = await db
    .update(alerts)
    .set({ status: "resolved", resolvedAt: new Date() })
    .where(and(eq(alerts.dedupKey, dedupKey), ne(alerts.status, "resolved")))
    .returning({ id: alerts.id });
  return rows.length > 0;
}
