/**
 * The bodies the alert webhooks receive, one builder per format: a generic JSON document, a Slack incoming-webhook
 * message, and a PagerDuty Events API v2 event (trigger on raise, acknowledge, resolve — keyed by the alert, so
 * PagerDuty folds repeats into one incident). A flood of one kind becomes one summary message with counts.
 */
import type { AlertEventType } from "../../db/schema.ts";
import type { AlertFormat } from "../../lib/alert-targets.ts";

/** One alert event as delivered (the alert's current row plus which event this is). */
export interface AlertEventView {
  deliveryId: bigint;
  alertId: bigint;
  event: AlertEventType;
  kind: string;
  severity: string;
  owner: string | null;
  message: string;
  details: unknown;
  createdAt: Date;
  eventAt: Date;
}

/** Several events of one kind carried by one message. */
export interface FloodSummary {
  kind: string;
  count: number;
  byEvent: Record<AlertEventType, number>;
  severity: string;
  first: Date;
  last: Date;
  /** The oldest few of them. */
  sample: AlertEventView[];
  newest: AlertEventView;
  windowSec: number;
}

export interface MessageContext {
  source: string;
  cluster: string | null;
  routingKey?: string;
}

const SEVERITY_RANK: Record<string, number> = { info: 0, warning: 1, critical: 2 };

/** The highest of the given severities. */
export function maxSeverity(severities: string[]): string {
  return severities.reduce((a, b) => ((SEVERITY_RANK[b] ?? 0) > (SEVERITY_RANK[a] ?? 0) ? b : a), "info");
}

/** The body for one alert event in the target's format. */
export function eventBody(format: AlertFormat, e: AlertEventView, ctx: MessageContext): unknown {
  if (format === "slack") return slackEvent(e, ctx);
  if (format === "pagerduty") return pagerDutyEvent(e, ctx);
  return {
    type: `alert.${e.event}`,
    id: `${e.alertId}:${e.event}`,
    source: ctx.source,
    cluster: ctx.cluster,
    alert: alertJson(e),
    at: e.eventAt.toISOString(),
  };
}

/** The body for a flood summary in the target's format. */
export function summaryBody(format: AlertFormat, s: FloodSummary, ctx: MessageContext): unknown {
  const text = summaryText(s);
  if (format === "slack") return { text: `${icon("raised", s.severity)} ${text}` };
  if (format === "pagerduty") {
    return {
      routing_key: ctx.routingKey,
      event_action: "trigger",
      // One incident per kind's flood: repeated floods of the same kind fold into it.
      dedup_key: `${ctx.source}:flood:${s.kind}`,
      payload: {
        summary: truncate(text, 1024),
        source: sourceName(ctx),
        severity: pagerDutySeverity(s.severity),
        timestamp: s.last.toISOString(),
        class: s.kind,
        group: "flood",
        custom_details: {
          count: s.count,
          byEvent: s.byEvent,
          sample: s.sample.map(alertJson),
          newest: alertJson(s.newest),
        },
      },
    };
  }
  return {
    type: "alert.summary",
    id: `summary:${s.kind}:${s.sample[0]?.deliveryId ?? 0}`,
    source: ctx.source,
    cluster: ctx.cluster,
    kind: s.kind,
    count: s.count,
    byEvent: s.byEvent,
    severity: s.severity,
    first: s.first.toISOString(),
    last: s.last.toISOString(),
    windowSeconds: s.windowSec,
    sample: s.sample.map(alertJson),
    newest: alertJson(s.newest),
  };
}

function alertJson(e: AlertEventView) {
  return {
    id: e.alertId.toString(),
    event: e.event,
    kind: e.kind,
    severity: e.severity,
    owner: e.owner,
    message: e.message,
    details: e.details ?? null,
    createdAt: e.createdAt.toISOString(),
  };
}

function slackEvent(e: AlertEventView, ctx: MessageContext) {
  const verb = e.event === "raised" ? "" : e.event === "resolved" ? "Resolved: " : "Acknowledged: ";
  const owner = e.owner ? ` · owner \`${e.owner}\`` : "";
  const where = ctx.cluster ? ` · ${ctx.cluster}` : "";
  return {
    text: `${icon(e.event, e.severity)} ${verb}[${e.severity}] ${e.kind}: ${e.message} (alert #${e.alertId}${owner}${where})`,
  };
}

function icon(event: AlertEventType, severity: string): string {
  if (event === "resolved") return ":white_check_mark:";
  if (event === "acknowledged") return ":eyes:";
  return severity === "critical" ? ":rotating_light:" : severity === "warning" ? ":warning:" : ":information_source:";
}

function pagerDutyEvent(e: AlertEventView, ctx: MessageContext) {
  const dedupKey = `${ctx.source}:alert:${e.alertId}`;
  if (e.event !== "raised") {
    return {
      routing_key: ctx.routingKey,
      event_action: e.event === "resolved" ? "resolve" : "acknowledge",
      dedup_key: dedupKey,
    };
  }
  return {
    routing_key: ctx.routingKey,
    event_action: "trigger",
    dedup_key: dedupKey,
    payload: {
      summary: truncate(`[${e.kind}] ${e.message}`, 1024),
      source: sourceName(ctx),
      severity: pagerDutySeverity(e.severity),
      timestamp: e.createdAt.toISOString(),
      component: e.owner ?? undefined,
      class: e.kind,
      custom_details: { alertId: e.alertId.toString(), owner: e.owner, details: e.details ?? null },
    },
  };
}

function summaryText(s: FloodSummary): string {
  const parts = (["raised", "acknowledged", "resolved"] as const)
    .filter((k) => s.byEvent[k] > 0)
    .map((k) => `${s.byEvent[k]} ${k}`);
  return (
    `${s.count} ${s.kind} alert events (${parts.join(", ")}) between ${s.first.toISOString()} and ` +
    `${s.last.toISOString()}: more than this webhook's cap per kind allows in ${s.windowSec} s, so they come as one ` +
    `message. Newest: ${s.newest.message}. See GET /monitor/alerts?kind=${s.kind}`
  );
}

function sourceName(ctx: MessageContext): string {
  return ctx.cluster ? `${ctx.source} (${ctx.cluster})` : ctx.source;
}

/** PagerDuty knows critical, error, warning, info. */
function pagerDutySeverity(severity: string): string {
  return severity === "critical" || severity === "warning" || severity === "info" ? severity : "error";
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
