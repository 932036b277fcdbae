/** The system view: TVL figures and chart, health and jobs from /monitor/status, and alerts for operators. */
import { ApiError, api, client, describeError, isMissingRoute, typed } from "./api.ts";
import { lineChart } from "./chart.ts";
import { byId, h, replace, say } from "./dom.ts";
import { formatTime, formatUsdt, usdtNumber } from "./format.ts";
import { seriesFrom, withCurrent } from "./series.ts";

const KEY_STORAGE = "vault-dashboard.admin-key";

interface Tvl {
  totalValueLocked: unknown;
  activeVaults: number;
  totalLocked: unknown;
  asOf?: string;
  source?: string;
}

/** The admin key for this tab only: sessionStorage dies with the tab, unlike localStorage. */
function adminKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

function keyHeaders(): Record<string, string> {
  const key = adminKey();
  return key ? { "x-api-key": key } : {};
}

/** Wires the admin key form and the range picker. */
export function initSystemView(): void {
  byId<HTMLFormElement>("admin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = byId<HTMLInputElement>("admin-key");
    if (input.value.trim()) sessionStorage.setItem(KEY_STORAGE, input.value.trim());
    input.value = "";
    void loadAlerts();
    void loadMonitor();
  });
  byId("admin-forget").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORAGE);
    void loadAlerts();
  });
  byId("tvl-range").addEventListener("change", () => void refreshSystem());
}

/** Reloads every panel of the system view. */
export async function refreshSystem(): Promise<void> {
  const tvl = await loadTvl();
  await Promise.all([loadTvlChart(tvl), loadMonitor(), loadAlerts()]);
}

async function loadTvl(): Promise<Tvl | null> {
  try {
    const tvl: Tvl = await typed(client.GET("/vault/tvl"));
    byId("tvl-total").textContent = formatUsdt(tvl.totalValueLocked);
    byId("tvl-vaults").textContent = String(tvl.activeVaults);
    byId("tvl-locked").textContent = formatUsdt(tvl.totalLocked);
    say(byId("system-status"), `Figures as of ${formatTime(tvl.asOf)} (${tvl.source ?? "server"}).`, "ok");
    return tvl;
  } catch (err) {
    say(byId("system-status"), describeError(err), "error");
    return null;
  }
}

async function loadTvlChart(tvl: Tvl | null): Promise<void> {
  const box = byId("tvl-chart");
  const seconds = Number(byId<HTMLSelectElement>("tvl-range").value);
  const to = new Date();
  const from = new Date(to.getTime() - seconds * 1000);
  // TVL snapshots come every few minutes: raw points up to a day, hourly buckets beyond.
  const bucket = seconds <= 86_400 ? "raw" : "hour";
  try {
    const data = await api<unknown>(
      `/vault/tvl/history?from=${from.toISOString()}&to=${to.toISOString()}&bucket=${bucket}`,
    );
    const points = withCurrent(
      seriesFrom(data, ["totalValueLocked", "tvl", "value", "total"]),
      tvl ? usdtNumber(tvl.totalValueLocked) : null,
    );
    replace(box, lineChart(points, { label: "Total value locked", unit: "USDT", step: true }));
  } catch (err) {
    const text = isMissingRoute(err)
      ? "TVL history is not available on this server (no /vault/tvl/history route yet)."
      : describeError(err);
    replace(box, h("p", { class: "unavailable" }, text));
  }
}

function pill(text: string, good: boolean | null): HTMLElement {
  return h("span", { class: `pill ${good === null ? "" : good ? "ok" : "bad"}` }, text);
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === "object" ? (v as Json) : {});

/** Renders /monitor/status: overall state, database and RPC health, ingestion lag, alerts, and the jobs table. */
async function loadMonitor(): Promise<void> {
  const box = byId("monitor");
  try {
    const status = await api<Json>("/monitor/status", { headers: keyHeaders() });
    replace(box, facts(status), jobsTable(status.jobs));
  } catch (err) {
    const text = isMissingRoute(err)
      ? "Monitoring status is not available on this server (no /monitor/status route yet)."
      : err instanceof ApiError && (err.code === "UNAUTHORIZED" || err.code === "FORBIDDEN")
        ? `Enter the admin key to see the monitoring status. (${err.code})`
        : describeError(err);
    replace(box, h("p", { class: "unavailable" }, text));
  }
}

function facts(status: Json): HTMLElement {
  const rpc = obj(status.rpc);
  const ingestion = obj(status.ingestion);
  const alerts = obj(obj(status.alerts).bySeverity);
  const lag =
    ingestion.lagSlots === null || ingestion.lagSlots === undefined
      ? "unknown (nothing ingested yet)"
      : `${ingestion.lagSlots} slots${ingestion.lagSeconds == null ? "" : ` · ${ingestion.lagSeconds} s`}`;
  const open = Object.entries(alerts)
    .map(([k, v]) => `${v} ${k}`)
    .join(", ");
  const rows: [string, Node | string][] = [
    ["Overall", pill(String(status.status ?? "unknown"), status.status === "healthy")],
    ["Database", pill(obj(status.database).healthy ? "healthy" : "down", Boolean(obj(status.database).healthy))],
    ["Solana RPC", pill(rpc.healthy ? `healthy · slot ${rpc.slot}` : "down", Boolean(rpc.healthy))],
    ["Ingestion lag", lag],
    ["Last ingested", formatTime(ingestion.updatedAt)],
    ["Open alerts", open || "none"],
    ["Program safety", programSafety(obj(status.programSafety))],
  ];
  return h("dl", { class: "facts" }, ...rows.flatMap(([dt, dd]) => [h("dt", {}, dt), h("dd", {}, dd)]));
}

/** Whether a stranger can move collateral, as the last simulation found it (README "Program safety"). */
function programSafety(s: Json): Node | string {
  if (!s.checkedAt) return "not checked yet";
  const label = `${String(s.status)} · checked ${formatTime(s.checkedAt)}`;
  return s.status === "inconclusive" || s.status === "untested" ? label : pill(label, s.status === "safe");
}

function jobsTable(jobs: unknown): HTMLElement | null {
  if (!Array.isArray(jobs) || jobs.length === 0) return null;
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "wrap-cells" },
      h("caption", { class: "sr-only" }, "Background jobs, last run"),
      h(
        "thead",
        {},
        h("tr", {}, ...["Job", "Last run", "Outcome", "Duration"].map((t) => h("th", { scope: "col" }, t))),
      ),
      h(
        "tbody",
        {},
        ...(jobs as Json[]).map((j) => {
          const run = obj(j.lastRun);
          const outcome = typeof run.outcome === "string" ? run.outcome : "never run";
          return h(
            "tr",
            {},
            h("td", {}, String(j.job ?? "")),
            h("td", {}, formatTime(run.startedAt)),
            h("td", { class: `s-${outcome}`, title: typeof run.error === "string" ? run.error : null }, outcome),
            h("td", { class: "num" }, typeof run.durationMs === "number" ? `${run.durationMs} ms` : "—"),
          );
        }),
      ),
    ),
  );
}

/** Lists open alerts (admin key needed) with an Acknowledge button each. */
async function loadAlerts(): Promise<void> {
  const box = byId("alerts");
  if (!adminKey()) {
    replace(box, h("p", { class: "hint" }, "Enter the admin key to see and acknowledge alerts."));
    return;
  }
  try {
    const data = await api<unknown>("/monitor/alerts", { headers: keyHeaders() });
    const alerts = (Array.isArray(data) ? data : ((data as { alerts?: unknown[] }).alerts ?? [])) as Record<
      string,
      unknown
    >[];
    if (alerts.length === 0) return replace(box, h("p", { class: "hint" }, "No alerts. All quiet."));
    replace(box, ...alerts.map(alertItem));
  } catch (err) {
    const text = isMissingRoute(err)
      ? "Alerts are not available on this server (no /monitor/alerts route yet)."
      : describeError(err);
    replace(box, h("p", { class: "unavailable" }, text));
  }
}

function alertItem(a: Record<string, unknown>): HTMLElement {
  const id = String(a.id);
  const severity = String(a.severity ?? "info");
  const acked = a.status === "acknowledged" || Boolean(a.acknowledgedAt);
  const line = h("p", { class: "status", role: "status" });
  const ack = h(
    "button",
    { type: "button", class: "secondary", disabled: acked },
    acked ? "Acknowledged" : "Acknowledge",
  );
  ack.addEventListener("click", async () => {
    ack.disabled = true;
    try {
      await api(`/monitor/alerts/${encodeURIComponent(id)}/ack`, { method: "POST", body: {}, headers: keyHeaders() });
      ack.textContent = "Acknowledged";
    } catch (err) {
      ack.disabled = false;
      say(line, describeError(err), "error");
    }
  });
  return h(
    "article",
    { class: "alert", "aria-label": `${severity} alert ${a.kind ?? ""}` },
    h("p", {}, h("span", { class: `pill s-${severity}` }, severity), " ", h("strong", {}, String(a.kind ?? "alert"))),
    h("p", {}, String(a.message ?? "")),
    h("p", { class: "hint" }, `${formatTime(a.createdAt)} · status ${String(a.status ?? "open")}`),
    ack,
    line,
  );
}
