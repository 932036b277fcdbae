/** The vault view: balance cards, live feed, balance history chart and the transaction table for one owner. */
import { ApiError, api, client, describeError, isMissingRoute, typed } from "./api.ts";
import { lineChart, type Point } from "./chart.ts";
import { byId, h, replace, say } from "./dom.ts";
import { formatTime, formatUsdt, looksLikePubkey, shortKey, toBig, usdtNumber } from "./format.ts";
import { clearFeed, connectFeed, type FeedMessage, renderEvent } from "./live-feed.ts";
import { seriesFrom, withCurrent } from "./series.ts";

const PAGE = 10;
const OWNER_KEY = "vault-dashboard.owner";

interface Balances {
  totalBalance: unknown;
  lockedBalance: unknown;
  availableBalance: unknown;
}

interface HistoryPage {
  transactions: Record<string, unknown>[];
  total: number;
  limit: number;
  offset: number;
}

const state = {
  owner: "",
  offset: 0,
  type: "",
  closeFeed: null as null | (() => void),
  total: null as bigint | null,
  /** Totals seen on this page (reads and live events), drawn after the stored snapshots. */
  seen: [] as Point[],
};

/** Wires the owner form, the table controls and the feed; shows the last owner viewed. */
export function initVaultView(): void {
  byId<HTMLFormElement>("owner-form").addEventListener("submit", (e) => {
    e.preventDefault();
    showOwner(byId<HTMLInputElement>("owner").value.trim());
  });
  byId<HTMLSelectElement>("history-type").addEventListener("change", (e) => {
    state.type = (e.target as HTMLSelectElement).value;
    state.offset = 0;
    void loadHistory();
  });
  byId("history-prev").addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - PAGE);
    void loadHistory();
  });
  byId("history-next").addEventListener("click", () => {
    state.offset += PAGE;
    void loadHistory();
  });
  clearFeed(byId("feed"), "Choose a vault to see its events as they happen.");
  const last = localStorage.getItem(OWNER_KEY);
  if (last) showOwner(last);
}

/** Switches the view to `owner` (validated), reloading everything and reconnecting the feed. */
export function showOwner(owner: string): void {
  const status = byId("vault-status");
  if (!looksLikePubkey(owner)) {
    say(status, "That is not a Solana public key (base58, 32–44 characters). (INVALID_PUBKEY)", "error");
    return;
  }
  byId<HTMLInputElement>("owner").value = owner;
  localStorage.setItem(OWNER_KEY, owner);
  state.owner = owner;
  state.offset = 0;
  state.total = null;
  state.seen = [];
  state.closeFeed?.();
  clearFeed(byId("feed"), "Waiting for events…");
  state.closeFeed = connectFeed(owner, { onMessage: onFeedMessage, onState: onFeedState });
  void refreshOwner();
}

/** Reloads balance, history and chart of the current owner. */
export async function refreshOwner(): Promise<void> {
  if (!state.owner) return;
  await Promise.all([loadBalance(), loadHistory()]);
  await loadBalanceChart();
}

function onFeedState(s: "connecting" | "live" | "reconnecting" | "unavailable"): void {
  const pill = byId("feed-state");
  const text = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…", unavailable: "not available" }[
    s
  ];
  pill.textContent = text;
  pill.className = `pill ${s === "live" ? "ok" : s === "unavailable" ? "bad" : "warn"}`;
  if (s === "unavailable") {
    clearFeed(
      byId("feed"),
      "Live updates are not available on this server (no /ws route). Balances refresh on demand.",
    );
  }
}

function onFeedMessage(m: FeedMessage): void {
  renderEvent(byId("feed"), m);
  if (m.event === "snapshot") {
    const balances = m.data?.balances as Balances | null;
    if (balances) setBalances(balances);
  } else if (m.event === "balance_update") {
    setBalances(m.data as unknown as Balances);
    void loadBalanceChart();
  } else if (m.event.startsWith("transaction_") || m.event.startsWith("collateral_")) {
    void loadHistory();
  } else if (m.event === "resync") {
    void refreshOwner();
  }
}

/** Writes the three cards, flashing the ones that changed. */
export function setBalances(b: Balances): void {
  const cards: [string, unknown][] = [
    ["card-total", b.totalBalance],
    ["card-locked", b.lockedBalance],
    ["card-available", b.availableBalance],
  ];
  for (const [id, value] of cards) {
    const el = byId(id);
    const text = formatUsdt(value);
    if (el.textContent !== text) {
      el.textContent = text;
      el.classList.remove("changed");
      void el.offsetWidth; // restart the animation
      el.classList.add("changed");
    }
    el.dataset.units = String(toBig(value) ?? "");
  }
  state.total = toBig(b.totalBalance);
  if (state.total !== null) state.seen.push({ t: Date.now(), v: usdtNumber(state.total) });
}

async function loadBalance(): Promise<void> {
  const status = byId("vault-status");
  try {
    setBalances(await typed(client.GET("/vault/balance/{owner}", { params: { path: { owner: state.owner } } })));
    say(status, `Showing vault of ${shortKey(state.owner, 6)}.`, "ok");
  } catch (err) {
    for (const id of ["card-total", "card-locked", "card-available"]) byId(id).textContent = "—";
    const plain =
      err instanceof ApiError && err.code === "VAULT_NOT_FOUND"
        ? `No vault exists for this key yet. (${err.code})`
        : describeError(err);
    say(status, plain, err instanceof ApiError && err.code === "VAULT_NOT_FOUND" ? "info" : "error");
  }
}

async function loadHistory(): Promise<void> {
  if (!state.owner) return;
  const body = byId("history").querySelector("tbody")!;
  const query: Record<string, string> = { limit: String(PAGE), offset: String(state.offset) };
  if (state.type) query.type = state.type;
  try {
    const page: HistoryPage = await typed(
      client.GET("/vault/transactions/{owner}", { params: { path: { owner: state.owner }, query } }),
    );
    replace(body, ...page.transactions.map(historyRow));
    if (page.transactions.length === 0) replace(body, h("tr", {}, h("td", { colspan: 5 }, "No transactions.")));
    const shownTo = page.offset + page.transactions.length;
    byId("history-page").textContent = `${page.total === 0 ? 0 : page.offset + 1}–${shownTo} of ${page.total}`;
    byId<HTMLButtonElement>("history-prev").disabled = page.offset === 0;
    byId<HTMLButtonElement>("history-next").disabled = shownTo >= page.total;
  } catch (err) {
    replace(body, h("tr", {}, h("td", { colspan: 5, class: "s-error" }, describeError(err))));
  }
}

function historyRow(t: Record<string, unknown>): HTMLTableRowElement {
  const status = String(t.status ?? "");
  const sig = typeof t.signature === "string" ? t.signature : "";
  const error = t.error as { name?: string; message?: string } | null;
  return h(
    "tr",
    { "data-id": String(t.transactionId ?? "") },
    h("td", {}, formatTime(t.blockTime ?? t.createdAt)),
    h("td", {}, String(t.type ?? "")),
    h("td", { class: "num" }, t.amount === null || t.amount === undefined ? "—" : formatUsdt(t.amount)),
    h("td", { class: `s-${status}`, title: error?.message ?? null }, status, error?.name ? ` (${error.name})` : ""),
    h("td", {}, sig ? h("code", { title: sig }, shortKey(sig, 6)) : "—"),
  );
}

async function loadBalanceChart(): Promise<void> {
  if (!state.owner) return;
  const box = byId("balance-chart");
  const to = new Date();
  const from = new Date(to.getTime() - 7 * 86_400_000);
  const current = state.total === null ? null : usdtNumber(state.total);
  try {
    const data = await api<unknown>(
      `/vault/balance/${state.owner}/history?from=${from.toISOString()}&to=${to.toISOString()}`,
    );
    const stored = seriesFrom(data, ["totalBalance", "total", "balance", "value"]);
    const since = stored.at(-1)?.t ?? 0;
    const points = withCurrent([...stored, ...state.seen.filter((p) => p.t > since)], current);
    replace(box, lineChart(points, { label: "Total balance, last 7 days", unit: "USDT", step: true }));
  } catch (err) {
    const text = isMissingRoute(err)
      ? "Balance history is not available on this server (no /vault/balance/:owner/history route yet)."
      : err instanceof ApiError && err.code === "VAULT_NOT_FOUND"
        ? "No vault yet."
        : describeError(err);
    replace(box, h("p", { class: "unavailable" }, text));
  }
}

/** The owner currently shown (empty before one is chosen). */
export function currentOwner(): string {
  return state.owner;
}
