/** The owner's WebSocket (/ws/:owner): connects, resumes with ?since=seq after a drop, and renders the events. */
import { h, replace } from "./dom.ts";
import { formatUsdt, shortKey } from "./format.ts";

export interface FeedMessage {
  event: string;
  data: Record<string, unknown>;
  timestamp: string;
  seq: number;
}

export interface FeedHandlers {
  onMessage(message: FeedMessage): void;
  onState(state: "connecting" | "live" | "reconnecting" | "unavailable"): void;
}

const MAX_ITEMS = 100;
/** Events that end a transaction's story; earlier entries for the same signature take this status. */
const FINAL_STATUS: Record<string, string> = {
  transaction_confirmed: "confirmed",
  transaction_finalized: "finalized",
  transaction_failed: "failed",
  transaction_expired: "expired",
};

/**
 * Opens the owner's socket and keeps it open (backoff 1 s → 15 s). A server without the route (plain GET answers
 * NOT_FOUND) is reported once as unavailable instead of retried forever. Returns a function that closes it.
 */
export function connectFeed(owner: string, handlers: FeedHandlers): () => void {
  let closed = false;
  let lastSeq: number | null = null;
  let socket: WebSocket | null = null;
  let delay = 1_000;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const open = () => {
    if (closed) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const since = lastSeq === null ? "" : `?since=${lastSeq}`;
    handlers.onState(lastSeq === null ? "connecting" : "reconnecting");
    socket = new WebSocket(`${scheme}://${location.host}/ws/${encodeURIComponent(owner)}${since}`);
    socket.onopen = () => {
      delay = 1_000;
      handlers.onState("live");
    };
    socket.onmessage = (e) => {
      let message: FeedMessage;
      try {
        message = JSON.parse(String(e.data)) as FeedMessage;
      } catch {
        return;
      }
      if (typeof message.seq === "number" && (lastSeq === null || message.seq > lastSeq)) lastSeq = message.seq;
      handlers.onMessage(message);
    };
    socket.onclose = () => {
      if (closed) return;
      void routeMissing(owner).then((missing) => {
        if (closed) return;
        if (missing) return handlers.onState("unavailable");
        handlers.onState("reconnecting");
        timer = setTimeout(open, delay);
        delay = Math.min(delay * 2, 15_000);
      });
    };
  };
  open();
  return () => {
    closed = true;
    clearTimeout(timer);
    socket?.close(1000, "page moved on");
  };
}

/** True when the server has no /ws route (it answers a plain GET with the API's NOT_FOUND). */
async function routeMissing(owner: string): Promise<boolean> {
  try {
    const res = await fetch(`/ws/${encodeURIComponent(owner)}`);
    if (res.status !== 404) return false;
    const body = (await res.json().catch(() => null)) as { error?: { code?: string } } | null;
    return body?.error?.code === "NOT_FOUND";
  } catch {
    return false;
  }
}

/** One line summarising an event's data. */
export function describeEvent(m: FeedMessage): string {
  const d = m.data ?? {};
  const parts: string[] = [];
  if (m.event === "snapshot") {
    const b = d.balances as Record<string, unknown> | null;
    return b ? `current total ${formatUsdt(b.totalBalance)}` : "no vault yet";
  }
  if (m.event === "balance_update") {
    return `total ${formatUsdt(d.totalBalance)} · locked ${formatUsdt(d.lockedBalance)} · available ${formatUsdt(d.availableBalance)}`;
  }
  const kind = d.transactionType ?? d.type;
  if (typeof kind === "string") parts.push(kind);
  if (d.amount !== undefined && d.amount !== null) parts.push(formatUsdt(d.amount));
  if (typeof d.reason === "string") parts.push(d.reason);
  if (typeof d.message === "string") parts.push(d.message);
  if (typeof d.signature === "string") parts.push(`sig ${shortKey(d.signature, 6)}`);
  return parts.join(" · ") || JSON.stringify(d).slice(0, 120);
}

/** Adds an event at the top of the list; a closing event also updates the status of earlier entries. */
export function renderEvent(list: HTMLElement, m: FeedMessage): void {
  list.querySelector(".empty")?.remove();
  const signature = typeof m.data?.signature === "string" ? m.data.signature : "";
  const status = FINAL_STATUS[m.event] ?? (typeof m.data?.status === "string" ? m.data.status : "");
  const pill = status ? h("span", { class: `pill s-${status}`, "data-role": "status" }, status) : null;
  const item = h(
    "li",
    { "data-event": m.event, "data-signature": signature || null },
    h("span", { class: "event" }, m.event),
    h("span", {}, pill, " ", h("span", { class: "seq" }, Number.isFinite(m.seq) ? `#${m.seq}` : "")),
    h("span", { class: "what" }, describeEvent(m)),
    h("time", { class: "when", datetime: m.timestamp }, new Date(m.timestamp).toLocaleTimeString()),
  );
  list.prepend(item);
  if (signature && FINAL_STATUS[m.event]) {
    for (const older of list.querySelectorAll<HTMLElement>(`li[data-signature="${CSS.escape(signature)}"]`)) {
      const p = older.querySelector<HTMLElement>('[data-role="status"]');
      if (p && older !== item) {
        p.textContent = status;
        p.className = `pill s-${status}`;
      }
    }
  }
  while (list.children.length > MAX_ITEMS) list.lastElementChild?.remove();
}

/** Empties the list with a hint. */
export function clearFeed(list: HTMLElement, text: string): void {
  replace(list, h("li", { class: "empty" }, text));
}
