/**
 * The alert webhooks of `ALERT_WEBHOOK_URL`: entries separated by commas or spaces, each `[format:]url` —
 *   https://ops.example/hooks/vault            generic JSON (the default)
 *   slack:https://hooks.slack.com/services/…  Slack incoming webhook (a bare hooks.slack.com URL is Slack too)
 *   pagerduty:<routing key>                    PagerDuty Events API v2 (events.pagerduty.com)
 *   pagerduty:https://<endpoint>#<routing key> PagerDuty Events v2 at another endpoint (e.g. the EU one)
 * URLs must be https (http only for a loopback host). The URLs and keys are secrets: a target is named in logs and
 * in the delivery log by its format, host and a short hash, never by its URL.
 */

export const ALERT_FORMATS = ["json", "slack", "pagerduty"] as const;
export type AlertFormat = (typeof ALERT_FORMATS)[number];

export interface AlertTarget {
  /** `format:host:hash` — safe to log and store. */
  id: string;
  format: AlertFormat;
  url: string;
  /** PagerDuty's integration (routing) key. */
  routingKey?: string;
}

const PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue";
const ROUTING_KEY = /^[A-Za-z0-9]{20,64}$/;

/** Parses the variable; on a bad entry returns the reason (never quoting the entry, which holds a secret). */
export function parseAlertTargets(value: string): { targets: AlertTarget[] } | { error: string } {
  const targets: AlertTarget[] = [];
  const entries = value.split(/[\s,]+/).filter(Boolean);
  for (const [i, entry] of entries.entries()) {
    const parsed = parseEntry(entry);
    if ("error" in parsed) return { error: `entry ${i + 1}: ${parsed.error}` };
    if (!targets.some((t) => t.id === parsed.id)) targets.push(parsed);
  }
  return { targets };
}

function parseEntry(entry: string): AlertTarget | { error: string } {
  const prefix = /^(json|slack|pagerduty):(?!\/\/)/.exec(entry);
  const format = (prefix?.[1] as AlertFormat | undefined) ?? null;
  const rest = prefix ? entry.slice(prefix[0].length) : entry;
  if (format === "pagerduty") return pagerDutyTarget(entry, rest);
  const url = webUrl(rest);
  if ("error" in url) return url;
  const chosen = format ?? (url.hostname === "hooks.slack.com" ? "slack" : "json");
  return { id: targetId(chosen, url.hostname, entry), format: chosen, url: url.toString() };
}

function pagerDutyTarget(entry: string, rest: string): AlertTarget | { error: string } {
  const hash = rest.lastIndexOf("#");
  const endpoint = hash >= 0 ? rest.slice(0, hash) : null;
  const routingKey = hash >= 0 ? rest.slice(hash + 1) : rest;
  if (!ROUTING_KEY.test(routingKey)) return { error: "pagerduty needs a routing key of 20-64 letters and digits" };
  const url = webUrl(endpoint ?? PAGERDUTY_EVENTS_URL);
  if ("error" in url) return url;
  return { id: targetId("pagerduty", url.hostname, entry), format: "pagerduty", url: url.toString(), routingKey };
}

function webUrl(text: string): URL | { error: string } {
  if (!URL.canParse(text)) return { error: "not a URL" };
  const url = new URL(text);
  url.hash = "";
  const loopback = url.hostname === "localhost" || url.hostname === "[::1]" || /^127\./.test(url.hostname);
  if (url.protocol === "https:" || (url.protocol === "http:" && loopback)) return url;
  return { error: "must be an https URL (http only on a loopback host)" };
}

/** `format:host:hash8`: FNV-1a of the whole entry, so two webhooks on one host stay apart. */
function targetId(format: AlertFormat, host: string, entry: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < entry.length; i++) {
    h ^= entry.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `${format}:${host}:${h.toString(16).padStart(8, "0")}`;
}
