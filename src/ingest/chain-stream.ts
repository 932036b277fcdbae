import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../config.ts";
import type { Bindings } from "../env.ts";
import { createLogger } from "../lib/log.ts";
import { backgroundServices } from "../platform/services.ts";
import { INGESTED } from "./ingestor.ts";
import { ingestSignatures } from "./pipeline.ts";

/** Seconds between heartbeats: the alarm checks the subscription and sends a JSON-RPC ping. */
export const HEARTBEAT_MS = 30_000;
/** A subscription that has said nothing (not even a pong) for this long is treated as dead and re-opened. */
export const SILENT_MS = 3 * HEARTBEAT_MS;
/** Signatures committed per ingestion call; more wait for the next. */
const BATCH = 100;

/** What GET /monitor/status reports of the push path. */
export interface StreamStatus {
  enabled: boolean;
  state: "open" | "connecting" | "closed" | "disabled";
  /** The subscription's id on the provider, once confirmed. */
  subscription: number | null;
  connectedAt: string | null;
  lastMessageAt: string | null;
  lastNotificationAt: string | null;
  notifications: number;
  /** Signatures this path committed first (the others were already there: the poll or the webhook was faster). */
  committed: number;
  reconnects: number;
  lastError: string | null;
}

interface Persisted {
  connectedAt: string | null;
  lastMessageAt: string | null;
  lastNotificationAt: string | null;
  notifications: number;
  committed: number;
  reconnects: number;
  lastError: string | null;
}

const EMPTY: Persisted = {
  connectedAt: null,
  lastMessageAt: null,
  lastNotificationAt: null,
  notifications: 0,
  committed: 0,
  reconnects: 0,
  lastError: null,
};

/**
 * The push path from the chain: one object holds an outbound PubSub socket to SOLANA_WS_URL with
 * `logsSubscribe {mentions: [programId]}` at `confirmed`, and ingests each notified signature at once through the
 * same exactly-once commit as the poll (the ingestion lease serialises them; `chain_transactions` claims each
 * signature once). Outbound sockets do not hibernate and are cut by evictions and deploys, so an alarm heartbeat
 * re-opens a dropped or silent subscription and sends a JSON-RPC `ping` (a client message: providers such as Helius
 * close sockets after 10 minutes without one; protocol pings do not count); the minute cron calls `ensure()`. The
 * cursor-driven poll stays the gap-free backstop and the finalizer. CHAIN_PUSH=false turns the path off.
 */
export class ChainStream extends DurableObject<Bindings> {
  private socket: WebSocket | null = null;
  private subscription: number | null = null;
  private connecting: Promise<void> | null = null;
  private queue: string[] = [];
  private draining: Promise<void> | null = null;
  private nextId = 1;
  private subscribeId = 0;

  /** Starts (or keeps) the subscription and the heartbeat; returns the status. */
  async ensure(): Promise<StreamStatus> {
    if (!this.enabled()) {
      this.close("disabled");
      await this.ctx.storage.deleteAlarm();
      return this.status();
    }
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null) await this.ctx.storage.setAlarm(Date.now() + HEARTBEAT_MS);
    await this.openSubscription();
    return this.status();
  }

  /** The push path's state, for /monitor/status. */
  async status(): Promise<StreamStatus> {
    const p = this.persisted();
    const state = !this.enabled()
      ? "disabled"
      : this.socket && this.subscription !== null
        ? "open"
        : this.socket || this.connecting
          ? "connecting"
          : "closed";
    return { enabled: this.enabled(), state, subscription: this.subscription, ...p };
  }

  /** Test and operator hook: drops the socket as a provider or an eviction would (the heartbeat re-opens it). */
  async drop(): Promise<void> {
    this.close("dropped on request");
    await this.ctx.storage.setAlarm(Date.now() + 1_000);
  }

  override async alarm(): Promise<void> {
    if (!this.enabled()) return this.close("disabled");
    try {
      const p = this.persisted();
      const silentFor = p.lastMessageAt ? Date.now() - Date.parse(p.lastMessageAt) : Number.POSITIVE_INFINITY;
      if (this.socket && silentFor > SILENT_MS) this.close("silent subscription");
      if (!this.socket) await this.openSubscription();
      else this.send({ jsonrpc: "2.0", id: this.nextId++, method: "ping" });
    } catch (err) {
      this.update({ lastError: describe(err) });
    } finally {
      await this.ctx.storage.setAlarm(Date.now() + (this.socket ? HEARTBEAT_MS : 5_000));
    }
  }

  private enabled(): boolean {
    return loadConfig(this.env).chainPush;
  }

  private async openSubscription(): Promise<void> {
    if (this.socket) return;
    this.connecting ??= this.open().finally(() => {
      this.connecting = null;
    });
    await this.connecting;
  }

  private async open(): Promise<void> {
    const config = loadConfig(this.env);
    const url = config.wsUrl.replace(/^ws/, "http");
    const res = await fetch(url, { headers: { Upgrade: "websocket" } });
    const ws = res.webSocket;
    if (!ws) {
      await res.body?.cancel();
      this.update({ lastError: `PubSub upgrade refused: HTTP ${res.status}` });
      return;
    }
    ws.accept();
    this.socket = ws;
    this.subscription = null;
    const previous = this.persisted();
    this.update({
      connectedAt: new Date().toISOString(),
      lastMessageAt: new Date().toISOString(),
      reconnects: previous.connectedAt ? previous.reconnects + 1 : previous.reconnects,
    });
    ws.addEventListener("message", (event) => this.onMessage(ws, event.data));
    ws.addEventListener("close", () => this.gone(ws, "closed by the provider"));
    ws.addEventListener("error", () => this.gone(ws, "socket error"));
    this.subscribeId = this.nextId++;
    this.send({
      jsonrpc: "2.0",
      id: this.subscribeId,
      method: "logsSubscribe",
      params: [{ mentions: [config.programId.toBase58()] }, { commitment: "confirmed" }],
    });
  }

  private onMessage(ws: WebSocket, data: unknown): void {
    if (ws !== this.socket) return;
    const now = new Date().toISOString();
    let msg: {
      id?: number;
      result?: unknown;
      method?: string;
      params?: { result?: { value?: { signature?: unknown } } };
    };
    try {
      msg = JSON.parse(String(data));
    } catch {
      return;
    }
    if (msg.id === this.subscribeId && typeof msg.result === "number") {
      this.subscription = msg.result;
      this.update({ lastMessageAt: now });
      return;
    }
    if (msg.method === "logsNotification") {
      const signature = msg.params?.result?.value?.signature;
      const p = this.persisted();
      this.update({ lastMessageAt: now, lastNotificationAt: now, notifications: p.notifications + 1 });
      if (typeof signature === "string") this.enqueue(signature);
      return;
    }
    this.update({ lastMessageAt: now });
  }

  /** Queues a signature and makes sure one drain runs: commits stay serial, in arrival (chain) order. */
  private enqueue(signature: string): void {
    this.queue.push(signature);
    this.draining ??= this.drain().finally(() => {
      this.draining = null;
    });
    this.ctx.waitUntil(this.draining);
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, BATCH);
      const services = backgroundServices(this.env, { durableObject: "ChainStream" }, "ingest");
      try {
        const committed = await ingestSignatures(this.env, services, batch, "push");
        services.metrics.count(INGESTED, { path: "push" }, committed);
        if (committed > 0) this.update({ committed: this.persisted().committed + committed });
      } catch (err) {
        // Left to the poll, which reads every signature from its cursor.
        services.log.warn("push ingestion failed; the poll will commit these", { count: batch.length, error: err });
      } finally {
        await services.close();
      }
    }
  }

  private send(message: unknown): void {
    try {
      this.socket?.send(JSON.stringify(message));
    } catch (err) {
      this.gone(this.socket, describe(err));
    }
  }

  private gone(ws: WebSocket | null, reason: string): void {
    if (!ws || ws !== this.socket) return;
    this.socket = null;
    this.subscription = null;
    this.update({ lastError: reason });
    // Re-open soon rather than at the next heartbeat.
    this.ctx.waitUntil(this.ctx.storage.setAlarm(Date.now() + 1_000));
  }

  private close(reason: string): void {
    const ws = this.socket;
    this.socket = null;
    this.subscription = null;
    if (ws) {
      try {
        ws.close(1000, reason);
      } catch {
        // Already closed.
      }
      this.update({ lastError: reason });
    }
  }

  private persisted(): Persisted {
    return { ...EMPTY, ...(this.ctx.storage.kv.get<Persisted>("status") ?? {}) };
  }

  private update(change: Partial<Persisted>): void {
    this.ctx.storage.kv.put("status", { ...this.persisted(), ...change });
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The ChainStream singleton's stub. */
export function chainStream(env: Bindings): DurableObjectStub<ChainStream> {
  return env.CHAIN_STREAM.get(env.CHAIN_STREAM.idFromName("chain-stream"));
}

/** Starts the push path if it is not running (the minute cron calls it); failures are logged, never thrown. */
export async function ensureChainStream(env: Bindings): Promise<StreamStatus | null> {
  try {
    return await chainStream(env).ensure();
  } catch (err) {
    createLogger("warn", { component: "ChainStream" }).warn("chain stream not started", { error: err });
    return null;
  }
}
