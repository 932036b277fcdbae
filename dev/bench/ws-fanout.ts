import { createRequire } from "node:module";
import type WebSocketType from "ws";
import { latency } from "./stats.ts";

const WebSocket = createRequire(import.meta.url)("ws") as typeof WebSocketType;

export interface FanoutSocket {
  owner: string;
  ws: WebSocketType;
  /** Signature → arrival time (performance.now()) of its transaction_confirmed event. */
  arrivals: Map<string, number>;
  closed: boolean;
  closeCode: number | null;
  closeReason: string;
}

/** Opens `perOwner` sockets for each owner (in waves, so the Worker is not handed 1,000 upgrades at once). */
export async function openSockets(baseUrl: string, owners: string[], perOwner: number): Promise<FanoutSocket[]> {
  const sockets: FanoutSocket[] = [];
  const wsBase = baseUrl.replace(/^http/, "ws");
  const openOne = (owner: string) =>
    new Promise<FanoutSocket>((resolve, reject) => {
      const ws = new WebSocket(`${wsBase}/ws/${owner}`);
      const s: FanoutSocket = { owner, ws, arrivals: new Map(), closed: false, closeCode: null, closeReason: "" };
      ws.on("message", (data) => {
        const now = performance.now();
        try {
          const m = JSON.parse(String(data)) as { event?: string; data?: { signature?: string } };
          if (m.event === "transaction_confirmed" && m.data?.signature && !s.arrivals.has(m.data.signature)) {
            s.arrivals.set(m.data.signature, now);
          }
        } catch {
          // "pong" and the like
        }
      });
      ws.on("close", (code, reason) => {
        s.closed = true;
        s.closeCode = code;
        s.closeReason = String(reason).slice(0, 80);
      });
      ws.once("open", () => resolve(s));
      ws.once("error", reject);
    });
  for (let i = 0; i < perOwner; i++) {
    for (let j = 0; j < owners.length; j += 50) {
      sockets.push(...(await Promise.all(owners.slice(j, j + 50).map(openOne))));
    }
  }
  return sockets;
}

/** Event-to-socket latency per (socket, signature) and sockets that missed an event or closed. */
export function fanoutFigures(sockets: FanoutSocket[], sent: Map<string, { signature: string; at: number }>) {
  const sample: number[] = [];
  let missed = 0;
  for (const s of sockets) {
    const event = sent.get(s.owner);
    if (!event) continue;
    const at = s.arrivals.get(event.signature);
    if (at === undefined) missed++;
    else sample.push(at - event.at);
  }
  const closes = new Map<string, number>();
  for (const s of sockets.filter((x) => x.closed)) {
    const key = `${s.closeCode} ${s.closeReason}`.trim();
    closes.set(key, (closes.get(key) ?? 0) + 1);
  }
  return {
    ...latency(sample),
    lost: missed,
    closed: sockets.filter((s) => s.closed).length,
    closeReasons: Object.fromEntries(closes),
  };
}
