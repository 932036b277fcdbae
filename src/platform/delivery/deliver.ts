/**
 * Delivers the alert outbox to the webhooks of ALERT_WEBHOOK_URL: at least once, in order per webhook, with retries
 * (jittered exponential backoff honouring Retry-After), and a cap per alert kind — when more events of one kind are
 * waiting than the webhook may still receive in the window, they go as one summary message with a count. Run by the
 * minute cron and at the end of any invocation that raised, acknowledged or resolved an alert.
 */
import type { Database } from "../../db/client.ts";
import { acquireLease, releaseLease } from "../../db/lease.ts";
import type { AlertTarget } from "../../lib/alert-targets.ts";
import { describeError } from "../../lib/log.ts";
import type { Services } from "../services.ts";
import { eventBody, type MessageContext, summaryBody } from "./messages.ts";
import {
  fanOut,
  floodSummary,
  markAttemptFailed,
  markSent,
  type PendingDelivery,
  pendingByKind,
  pendingDeliveries,
  pruneOutbox,
  sentInWindow,
} from "./outbox.ts";

const LEASE = "alert-delivery";
const SOURCE = "vault-backend";
/** Attempts before a delivery is given up (about 4 hours of backoff). */
export const MAX_ATTEMPTS = 12;
const REQUEST_TIMEOUT_MS = 5_000;
/** The drain stops starting new requests after this, well inside its lease and any invocation's limits. */
const DRAIN_BUDGET_MS = 20_000;
const BATCH = 50;
const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

export interface DeliveryFigures {
  created: number;
  sent: number;
  summaries: number;
  merged: number;
  retrying: number;
  failed: number;
  pruned: number;
}

/** Drains the outbox once; null when no webhook is configured or another invocation is already draining. */
export async function deliverAlerts(
  services: Services,
  opts: { prune?: boolean } = {},
): Promise<DeliveryFigures | null> {
  const targets = services.config.alertWebhooks;
  if (targets.length === 0) return null;
  const { db } = services.db();
  const holder = crypto.randomUUID();
  if (!(await acquireLease(db, LEASE, holder))) return null;
  try {
    const figures: DeliveryFigures = {
      created: 0,
      sent: 0,
      summaries: 0,
      merged: 0,
      retrying: 0,
      failed: 0,
      pruned: 0,
    };
    figures.created = await fanOut(
      db,
      targets.map((t) => t.id),
    );
    const deadline = Date.now() + DRAIN_BUDGET_MS;
    // Webhooks are independent: a slow or failing one never holds up another.
    const perTarget = await Promise.all(targets.map((t) => drainTarget(services, db, t, deadline)));
    for (const f of perTarget) {
      for (const key of ["sent", "summaries", "merged", "retrying", "failed"] as const) figures[key] += f[key];
    }
    if (opts.prune) figures.pruned = await pruneOutbox(db);
    return figures;
  } finally {
    await releaseLease(db, LEASE, holder);
  }
}

type TargetFigures = Pick<DeliveryFigures, "sent" | "summaries" | "merged" | "retrying" | "failed">;

/** Walks one webhook's pending deliveries in order until done, held by the cap, failing, or out of time. */
async function drainTarget(services: Services, db: Database, target: AlertTarget, deadline: number) {
  const figures: TargetFigures = { sent: 0, summaries: 0, merged: 0, retrying: 0, failed: 0 };
  const { alertMaxPerKind: cap, alertWindowSec: windowSec } = services.config;
  const ctx: MessageContext = { source: SOURCE, cluster: services.config.solanaCluster, routingKey: target.routingKey };
  for (;;) {
    const batch = await pendingDeliveries(db, target.id, BATCH);
    if (batch.length === 0) return figures;
    const [pending, sent] = await Promise.all([pendingByKind(db, target.id), sentInWindow(db, target.id, windowSec)]);
    let progressed = false;
    for (const row of batch) {
      if (Date.now() > deadline) return figures;
      // A delivery waiting for its retry holds back everything after it: a webhook sees events in order.
      if (row.nextAttemptAt.getTime() > Date.now()) return figures;
      const waiting = pending.get(row.kind);
      if (!waiting || waiting.count === 0) continue; // carried by a summary sent earlier in this batch
      const allowance = cap - (sent.get(row.kind) ?? 0);
      if (allowance <= 0) continue; // held by the cap until the window frees a slot
      const flood = waiting.count > allowance;
      const outcome = flood
        ? await sendSummary(services, db, target, ctx, row, waiting.maxId)
        : await sendOne(services, db, target, ctx, row);
      if (outcome === "retry") {
        figures.retrying++;
        return figures;
      }
      if (outcome === "failed") {
        figures.failed += flood ? waiting.count : 1;
        waiting.count = flood ? 0 : waiting.count - 1;
        continue;
      }
      progressed = true;
      sent.set(row.kind, (sent.get(row.kind) ?? 0) + 1);
      if (flood) {
        figures.summaries++;
        figures.merged += waiting.count - 1;
        waiting.count = 0;
      } else {
        figures.sent++;
        waiting.count--;
      }
    }
    if (!progressed) return figures;
  }
}

type Outcome = "sent" | "retry" | "failed";

async function sendOne(
  services: Services,
  db: Database,
  target: AlertTarget,
  ctx: MessageContext,
  row: PendingDelivery,
): Promise<Outcome> {
  const body = eventBody(target.format, row, ctx);
  const answer = await post(target, body, `${row.alertId}:${row.event}`);
  return record(services, db, target, row, answer);
}

async function sendSummary(
  services: Services,
  db: Database,
  target: AlertTarget,
  ctx: MessageContext,
  lead: PendingDelivery,
  maxId: bigint,
): Promise<Outcome> {
  const summary = await floodSummary(db, target.id, lead.kind, maxId, services.config.alertWindowSec);
  const answer = await post(target, summaryBody(target.format, summary, ctx), `summary:${lead.deliveryId}`);
  return record(services, db, target, lead, answer, {
    target: target.id,
    kind: lead.kind,
    maxId,
    count: summary.count,
  });
}

type Answer = { ok: true; status: number } | { ok: false; status: number | null; error: string; retryAfterMs: number };

/** One POST; never throws (a network error or timeout is an answer without a status). */
async function post(target: AlertTarget, body: unknown, idempotencyKey: string): Promise<Answer> {
  try {
    const res = await fetch(target.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": `${SOURCE}-alerts`,
        // Lets a generic receiver drop a repeat after a timeout that hid a success (delivery is at least once).
        "idempotency-key": idempotencyKey,
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text().catch(() => "");
    if (res.ok) return { ok: true, status: res.status };
    const retryAfter = Number(res.headers.get("retry-after"));
    return {
      ok: false,
      status: res.status,
      error: `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ""}`,
      retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 3600) * 1000 : 0,
    };
  } catch (err) {
    const { name, message } = describeError(err);
    return { ok: false, status: null, error: `${name}: ${message}`, retryAfterMs: 0 };
  }
}

/** Writes the attempt's outcome to the delivery log and says what the drain should do next. */
async function record(
  services: Services,
  db: Database,
  target: AlertTarget,
  row: PendingDelivery,
  answer: Answer,
  merged?: Parameters<typeof markSent>[3],
): Promise<Outcome> {
  if (answer.ok) {
    await markSent(db, row.deliveryId, answer.status, merged);
    return "sent";
  }
  const attempts = row.attempts + 1;
  const retryable = answer.status === null || RETRYABLE.has(answer.status);
  const retryAt =
    retryable && attempts < MAX_ATTEMPTS ? new Date(Date.now() + retryDelayMs(attempts, answer.retryAfterMs)) : null;
  await markAttemptFailed(db, row.deliveryId, { responseStatus: answer.status, error: answer.error, retryAt }, merged);
  const fields = {
    target: target.id,
    alertId: row.alertId.toString(),
    event: row.event,
    attempts,
    error: answer.error,
  };
  if (retryAt) services.log.warn("alert delivery failed; will retry", { ...fields, retryAt: retryAt.toISOString() });
  else services.log.error("alert delivery given up", fields);
  return retryAt ? "retry" : "failed";
}

/** 15 s × 2^(attempt−1) with ±20 % jitter, at most 30 min, and never sooner than the receiver's Retry-After. */
export function retryDelayMs(attempt: number, retryAfterMs = 0): number {
  const base = Math.min(15_000 * 2 ** (attempt - 1), 30 * 60_000);
  return Math.max(retryAfterMs, Math.round(base * (0.8 + Math.random() * 0.4)));
}
