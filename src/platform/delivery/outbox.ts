/**
 * The alert outbox in Postgres: `alert_events` (written with each alert change) fanned out into `alert_deliveries`,
 * one row per event and webhook, which the drain (deliver.ts) walks in order per webhook. Every statement here is
 * one round trip; the drain holds a database lease, so only one invocation walks the outbox at a time.
 */
import { and, asc, eq, gt, lte, sql } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import { type AlertEventType, alertDeliveries, alertEvents, alerts } from "../../db/schema.ts";
import type { AlertEventView, FloodSummary } from "./messages.ts";

/** Events older than this when a webhook first sees them are not delivered (e.g. history before one was set). */
const FAN_OUT_HORIZON = "24 hours";
/** The outbox and its delivery log are kept this long. */
const RETENTION = "30 days";

export interface PendingDelivery extends AlertEventView {
  attempts: number;
  nextAttemptAt: Date;
}

/** Fans undispatched events out to the given webhooks (one statement); returns how many deliveries it created. */
export async function fanOut(db: Database, targetIds: string[]): Promise<number> {
  const targets = sql.join(
    targetIds.map((id) => sql`${id}`),
    sql`, `,
  );
  const result = await db.execute(sql`
    with due as (
      update ${alertEvents} set dispatched_at = now() where dispatched_at is null
      returning id, alert_id, created_at
    ), created as (
      insert into ${alertDeliveries} (event_id, target, kind)
      select due.id, t.target, a.kind
      from due join ${alerts} a on a.id = due.alert_id cross join unnest(array[${targets}]::text[]) as t(target)
      where due.created_at > now() - interval '${sql.raw(FAN_OUT_HORIZON)}'
      on conflict (event_id, target) do nothing
      returning 1
    )
    select count(*)::int as n from created`);
  return Number((result.rows[0] as { n?: number } | undefined)?.n ?? 0);
}

const pendingColumns = {
  deliveryId: alertDeliveries.id,
  attempts: alertDeliveries.attempts,
  nextAttemptAt: alertDeliveries.nextAttemptAt,
  alertId: alerts.id,
  event: alertEvents.event,
  eventAt: alertEvents.createdAt,
  kind: alerts.kind,
  severity: alerts.severity,
  owner: alerts.owner,
  message: alerts.message,
  details: alerts.details,
  createdAt: alerts.createdAt,
};

/** The webhook's pending deliveries, oldest first, with their alert. */
export async function pendingDeliveries(db: Database, target: string, limit: number): Promise<PendingDelivery[]> {
  const rows = await db
    .select(pendingColumns)
    .from(alertDeliveries)
    .innerJoin(alertEvents, eq(alertEvents.id, alertDeliveries.eventId))
    .innerJoin(alerts, eq(alerts.id, alertEvents.alertId))
    .where(and(eq(alertDeliveries.target, target), eq(alertDeliveries.status, "pending")))
    .orderBy(asc(alertDeliveries.id))
    .limit(limit);
  return rows.map((r) => ({ ...r, event: r.event as AlertEventType }));
}

/** Pending deliveries per kind for the webhook: how many, and the newest id (what a summary may cover). */
export async function pendingByKind(
  db: Database,
  target: string,
): Promise<Map<string, { count: number; maxId: bigint }>> {
  const rows = await db
    .select({ kind: alertDeliveries.kind, count: sql<number>`count(*)::int`, maxId: sql<string>`max(id)::text` })
    .from(alertDeliveries)
    .where(and(eq(alertDeliveries.target, target), eq(alertDeliveries.status, "pending")))
    .groupBy(alertDeliveries.kind);
  return new Map(rows.map((r) => [r.kind, { count: r.count, maxId: BigInt(r.maxId) }]));
}

/** Messages sent to the webhook per kind within the last `windowSec` (a summary counts as one message). */
export async function sentInWindow(db: Database, target: string, windowSec: number): Promise<Map<string, number>> {
  const rows = await db
    .select({ kind: alertDeliveries.kind, count: sql<number>`count(*)::int` })
    .from(alertDeliveries)
    .where(
      and(
        eq(alertDeliveries.target, target),
        eq(alertDeliveries.status, "sent"),
        gt(alertDeliveries.sentAt, sql`now() - make_interval(secs => ${windowSec})`),
      ),
    )
    .groupBy(alertDeliveries.kind);
  return new Map(rows.map((r) => [r.kind, r.count]));
}

/** What one summary message says about the webhook's pending deliveries of `kind` up to `maxId`. */
export async function floodSummary(
  db: Database,
  target: string,
  kind: string,
  maxId: bigint,
  windowSec: number,
): Promise<FloodSummary> {
  const scope = and(
    eq(alertDeliveries.target, target),
    eq(alertDeliveries.kind, kind),
    eq(alertDeliveries.status, "pending"),
    lte(alertDeliveries.id, maxId),
  );
  const base = () =>
    db
      .select(pendingColumns)
      .from(alertDeliveries)
      .innerJoin(alertEvents, eq(alertEvents.id, alertDeliveries.eventId))
      .innerJoin(alerts, eq(alerts.id, alertEvents.alertId))
      .where(scope);
  const [counts, sample, newest] = await Promise.all([
    db
      .select({ event: alertEvents.event, severity: alerts.severity, count: sql<number>`count(*)::int` })
      .from(alertDeliveries)
      .innerJoin(alertEvents, eq(alertEvents.id, alertDeliveries.eventId))
      .innerJoin(alerts, eq(alerts.id, alertEvents.alertId))
      .where(scope)
      .groupBy(alertEvents.event, alerts.severity),
    base().orderBy(asc(alertDeliveries.id)).limit(5),
    base().orderBy(sql`${alertDeliveries.id} desc`).limit(1),
  ]);
  const byEvent: Record<AlertEventType, number> = { raised: 0, acknowledged: 0, resolved: 0 };
  const severities: string[] = [];
  for (const c of counts) {
    byEvent[c.event as AlertEventType] += c.count;
    severities.push(c.severity);
  }
  const view = (r: (typeof sample)[number]): AlertEventView => ({ ...r, event: r.event as AlertEventType });
  const first = sample[0] ? view(sample[0]) : null;
  const last = newest[0] ? view(newest[0]) : first;
  if (!first || !last) throw new Error(`no pending ${kind} deliveries to summarise`);
  return {
    kind,
    count: byEvent.raised + byEvent.acknowledged + byEvent.resolved,
    byEvent,
    severity: severities.reduce((a, b) => (rank(b) > rank(a) ? b : a), "info"),
    first: first.eventAt,
    last: last.eventAt,
    sample: sample.map(view),
    newest: last,
    windowSec,
  };
}

const rank = (severity: string) => ({ info: 0, warning: 1, critical: 2 })[severity] ?? 0;

/** Records a delivered message (and, for a summary, the deliveries it carried). */
export async function markSent(
  db: Database,
  lead: bigint,
  responseStatus: number,
  merged?: { target: string; kind: string; maxId: bigint; count: number },
): Promise<void> {
  await db
    .update(alertDeliveries)
    .set({
      status: "sent",
      sentAt: sql`now()`,
      lastAttemptAt: sql`now()`,
      attempts: sql`${alertDeliveries.attempts} + 1`,
      responseStatus,
      lastError: null,
      mergedCount: merged ? merged.count : null,
    })
    .where(eq(alertDeliveries.id, lead));
  if (!merged) return;
  await db
    .update(alertDeliveries)
    .set({ status: "merged", mergedInto: lead })
    .where(
      and(
        eq(alertDeliveries.target, merged.target),
        eq(alertDeliveries.kind, merged.kind),
        eq(alertDeliveries.status, "pending"),
        lte(alertDeliveries.id, merged.maxId),
      ),
    );
}

/**
 * Records a failed attempt: retried at `retryAt`, or given up (`failed`) when `retryAt` is null — together with
 * the deliveries a summary would have carried, which share its fate.
 */
export async function markAttemptFailed(
  db: Database,
  id: bigint,
  outcome: { responseStatus: number | null; error: string; retryAt: Date | null },
  merged?: { target: string; kind: string; maxId: bigint },
): Promise<void> {
  const scope = merged
    ? and(
        eq(alertDeliveries.target, merged.target),
        eq(alertDeliveries.kind, merged.kind),
        eq(alertDeliveries.status, "pending"),
        lte(alertDeliveries.id, merged.maxId),
      )
    : eq(alertDeliveries.id, id);
  // A retried summary keeps its rows pending (the next drain summarises them again): only the lead's retry time
  // matters, since the drain walks a webhook's rows from the oldest.
  await db
    .update(alertDeliveries)
    .set({
      status: outcome.retryAt ? "pending" : "failed",
      attempts: sql`${alertDeliveries.attempts} + 1`,
      lastAttemptAt: sql`now()`,
      nextAttemptAt: outcome.retryAt ?? sql`now()`,
      responseStatus: outcome.responseStatus,
      lastError: outcome.error.slice(0, 500),
    })
    .where(outcome.retryAt ? eq(alertDeliveries.id, id) : scope);
}

/** Deletes outbox rows (and their delivery log) past the retention period, a bounded number per call. */
export async function pruneOutbox(db: Database): Promise<number> {
  const result = await db.execute(sql`
    delete from ${alertEvents} where id in (
      select id from ${alertEvents} where created_at < now() - interval '${sql.raw(RETENTION)}'
      order by id limit 1000
    )`);
  return result.rowCount ?? 0;
}
