import { and, count, desc, eq, ne, type SQL } from "drizzle-orm";
import type { Queryable } from "../db/client.ts";
import { alerts } from "../db/schema.ts";
import type { AlertRow } from "../platform/alerts.ts";

export const ALERT_FILTERS = ["unresolved", "open", "acknowledged", "resolved", "all"] as const;
export type AlertFilter = (typeof ALERT_FILTERS)[number];

/** Alerts, newest first, filtered by status (default unresolved), kind and owner. */
export async function listAlerts(
  db: Queryable,
  q: { status: AlertFilter; kind?: string; owner?: string; limit: number; offset: number },
) {
  const filters: SQL[] = [];
  if (q.status === "unresolved") filters.push(ne(alerts.status, "resolved"));
  else if (q.status !== "all") filters.push(eq(alerts.status, q.status));
  if (q.kind) filters.push(eq(alerts.kind, q.kind));
  if (q.owner) filters.push(eq(alerts.owner, q.owner));
  const where = and(...filters);
  const [rows, totals] = await Promise.all([
    db
      .select()
      .from(alerts)
      .where(where)
      .orderBy(desc(alerts.createdAt), desc(alerts.id))
      .limit(q.limit)
      .offset(q.offset),
    db.select({ total: count() }).from(alerts).where(where),
  ]);
  return { alerts: rows.map(alertView), total: totals[0]?.total ?? 0 };
}

/** The API shape of an alert (ids as exact integers, times as ISO 8601). */
export function alertView(a: AlertRow) {
  return {
    id: a.id,
    kind: a.kind,
    severity: a.severity,
    status: a.status,
    owner: a.owner,
    message: a.message,
    details: a.details,
    count: a.count,
    createdAt: a.createdAt.toISOString(),
    lastSeenAt: a.lastSeenAt.toISOString(),
    acknowledgedAt: a.acknowledgedAt?.toISOString() ?? null,
    acknowledgedBy: a.acknowledgedBy,
    resolvedAt: a.resolvedAt?.toISOString() ?? null,
  };
}
