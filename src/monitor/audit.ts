/** The audit trail: what each API key did (privileged builds and their refusals, alert acknowledgements). */
import { and, count, desc, eq, type SQL } from "drizzle-orm";
import type { Queryable } from "../db/client.ts";
import { auditLog } from "../db/schema.ts";

/** Audit entries, newest first, optionally for one key name or one action. */
export async function listAudit(db: Queryable, q: { apiKey?: string; action?: string; limit: number; offset: number }) {
  const filters: SQL[] = [];
  if (q.apiKey) filters.push(eq(auditLog.apiKeyName, q.apiKey));
  if (q.action) filters.push(eq(auditLog.action, q.action));
  const where = filters.length > 0 ? and(...filters) : undefined;
  const [rows, totals] = await Promise.all([
    db
      .select()
      .from(auditLog)
      .where(where)
      .orderBy(desc(auditLog.at), desc(auditLog.id))
      .limit(q.limit)
      .offset(q.offset),
    db.select({ total: count() }).from(auditLog).where(where),
  ]);
  return { entries: rows.map(auditView), total: totals[0]?.total ?? 0 };
}

type AuditRow = typeof auditLog.$inferSelect;

/** The API shape of an audit entry (ids as exact integers, time as ISO 8601). */
export function auditView(a: AuditRow) {
  return {
    id: a.id,
    at: a.at.toISOString(),
    apiKey: a.apiKeyName,
    action: a.action,
    outcome: a.outcome,
    transactionId: a.transactionId,
    alertId: a.alertId,
    requestId: a.requestId,
    details: a.details,
  };
}
