/**
 * GET /metrics: the counters kept by the Metrics object (builds, relays, ingested transactions, RPC use, job runs,
 * open sockets) and gauges read from Postgres and the RPC at scrape time (ingestion lag, each job's last run, open
 * alerts by severity, alert deliveries, open requests). One HTTP query per database figure, all in parallel; a
 * source that fails is reported by vault_metrics_source_up and its figures are left out.
 */
import { sql } from "drizzle-orm";
import pkg from "../../../package.json" with { type: "json" };
import { alertDeliveries, transactions } from "../../db/schema.ts";
import type { Bindings } from "../../env.ts";
import { ALL_JOBS } from "../../jobs/dispatch.ts";
import { unresolvedCounts } from "../../platform/alerts.ts";
import { metricsStub } from "../../platform/metrics/collector.ts";
import { type Family, family, render } from "../../platform/metrics/prometheus.ts";
import type { MetricsSnapshot } from "../../platform/metrics/store.ts";
import { latestRuns } from "../../platform/runs.ts";
import type { Services } from "../../platform/services.ts";
import { attempt, ingestionCursor, ingestionLag } from "../status.ts";

/** What each counter kept by the Metrics object means. */
const COUNTERS: Record<string, string> = {
  vault_builds_total: "Transaction builds by operation and outcome (ok, or the error code returned).",
  vault_relays_total: "POST /vault/submit by outcome (accepted, or the error code returned).",
  vault_ingested_transactions_total:
    "Program transactions committed by ingestion, by path (poll loop, cron backstop, webhook).",
  vault_rpc_requests_total:
    "HTTP requests sent to the Solana RPC, by JSON-RPC method (a batch counts once per method).",
  vault_rpc_items_total: "JSON-RPC items sent to the Solana RPC, by method (retries included).",
  vault_rpc_rate_limited_total: "HTTP 429 answers received from the Solana RPC, by method.",
  vault_job_runs_total: "Recorded job runs by job and outcome (ok, partial, error).",
  vault_job_duration_seconds_total: "Time spent in recorded job runs, by job.",
};

export async function renderMetrics(env: Bindings, services: Services): Promise<string> {
  const db = services.reads();
  const [snapshot, runs, alerts, deliveries, requests, cursor, head] = await Promise.all([
    attempt(services, "metrics store", () => metricsStub(env).read()),
    attempt(services, "job runs", () => latestRuns(db, ALL_JOBS)),
    attempt(services, "alerts", () => unresolvedCounts(db)),
    attempt(services, "alert deliveries", () =>
      db
        .select({ status: alertDeliveries.status, n: sql<number>`count(*)::int` })
        .from(alertDeliveries)
        .groupBy(alertDeliveries.status),
    ),
    attempt(services, "open requests", () =>
      db
        .select({ status: transactions.status, n: sql<number>`count(*)::int` })
        .from(transactions)
        .where(sql`${transactions.status} in ('pending', 'submitted', 'confirmed')`)
        .groupBy(transactions.status),
    ),
    attempt(services, "ingestion cursor", () => ingestionCursor(services)),
    attempt(services, "rpc", () => services.rpc.call<number>("getSlot", [{ commitment: "confirmed" }])),
  ]);
  const lag = await ingestionLag(services, cursor, head);
  const families: Family[] = [
    family("vault_build_info", "gauge", "The running version.", [[{ version: pkg.version }, 1]]),
    family("vault_metrics_source_up", "gauge", "1 when the source answered this scrape, else 0.", [
      [{ source: "store" }, snapshot ? 1 : 0],
      [{ source: "database" }, runs ? 1 : 0],
      [{ source: "rpc" }, head !== null ? 1 : 0],
    ]),
    ...(snapshot ? storeFamilies(snapshot) : []),
    family("vault_chain_head_slot", "gauge", "The RPC's confirmed slot.", head === null ? [] : [[{}, head]]),
    family(
      "vault_ingestion_cursor_slot",
      "gauge",
      "Slot of the newest ingested program transaction.",
      lag.slot === null ? [] : [[{}, Number(lag.slot)]],
    ),
    family(
      "vault_ingestion_lag_slots",
      "gauge",
      "Slots between the confirmed head and the ingestion cursor.",
      lag.lagSlots === null ? [] : [[{}, lag.lagSlots]],
    ),
    family(
      "vault_ingestion_lag_seconds",
      "gauge",
      "Seconds since the block of the ingestion cursor.",
      lag.lagSeconds === null ? [] : [[{}, lag.lagSeconds]],
    ),
    ...jobFamilies(runs),
    family(
      "vault_alerts_unresolved",
      "gauge",
      "Unresolved alerts (open or acknowledged) by severity.",
      alerts ? Object.entries(alerts.bySeverity).map(([severity, n]) => [{ severity }, n]) : [],
    ),
    family(
      "vault_alerts_open",
      "gauge",
      "Unresolved alerts by status.",
      alerts
        ? [
            [{ status: "open" }, alerts.open],
            [{ status: "acknowledged" }, alerts.acknowledged],
          ]
        : [],
    ),
    family(
      "vault_alert_deliveries",
      "gauge",
      "Alert webhook deliveries in the delivery log (30 days) by status.",
      (deliveries ?? []).map((d) => [{ status: d.status }, d.n]),
    ),
    family(
      "vault_requests_open",
      "gauge",
      "Built or relayed requests not final yet, by status.",
      (requests ?? []).map((r) => [{ status: r.status }, r.n]),
    ),
  ];
  return render(families);
}

function storeFamilies(snapshot: MetricsSnapshot): Family[] {
  const byName = new Map<string, Array<[string, number]>>();
  for (const { name, labels, value } of snapshot.counters) {
    if (!COUNTERS[name]) continue;
    byName.set(name, [...(byName.get(name) ?? []), [labels, value]]);
  }
  return [
    ...Object.entries(COUNTERS).map(
      ([name, help]): Family => ({ name, help, type: "counter", samples: byName.get(name) ?? [] }),
    ),
    family("vault_websockets_open", "gauge", "WebSockets open across all owners' hubs.", [[{}, snapshot.openSockets]]),
    family("vault_websocket_owners", "gauge", "Owners with at least one open WebSocket.", [
      [{}, snapshot.socketOwners],
    ]),
  ];
}

function jobFamilies(runs: Awaited<ReturnType<typeof latestRuns>> | null): Family[] {
  const last = [...(runs ?? new Map()).entries()].flatMap(([job, run]) => (run ? [[job, run] as const] : []));
  return [
    family(
      "vault_job_last_run_timestamp_seconds",
      "gauge",
      "When each job's last recorded run started (unix seconds).",
      last.map(([job, run]) => [{ job }, Math.floor(run.startedAt.getTime() / 1000)]),
    ),
    family(
      "vault_job_last_duration_seconds",
      "gauge",
      "Duration of each job's last recorded run.",
      last.map(([job, run]) => [{ job }, run.durationMs / 1000]),
    ),
    family(
      "vault_job_last_success",
      "gauge",
      "1 when each job's last recorded run succeeded (ok or partial), 0 when it failed.",
      last.map(([job, run]) => [{ job }, run.outcome === "error" ? 0 : 1]),
    ),
  ];
}
