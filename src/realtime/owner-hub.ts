import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../env.ts";
import { kickIngestor } from "../ingest/ingestor.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { parsePubkey } from "../lib/pubkey.ts";
import { reportOpenSockets } from "../monitor/metrics/collector.ts";
import { appendEvents, markGap } from "./event-log.ts";
import type { OwnerEvent } from "./publish.ts";
import { REBROADCAST_INTERVAL_MS, relayTick, type TrackedRequest, trackKey } from "./relay-tracker.ts";
import { backgroundServices } from "./services.ts";
import { bringUpToDate, broadcast, CLOSE_INVALID_OWNER, type SocketAttachment } from "./sockets.ts";

/**
 * One Durable Object per vault owner. It follows the owner's relayed transactions to a final status
 * (rebroadcasting until they land or expire) on its alarm, so no HTTP request is held open; and it holds the
 * owner's WebSockets with the hibernation API (state lives in socket attachments and storage, never in fields),
 * storing every event with a seq before pushing it.
 */
export class VaultOwnerHub extends DurableObject<Bindings> {
  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    // Answered by the runtime without waking the object (hibernation keeps working under client keep-alives).
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  /** Internal API, reached only through the Worker's own stub (never routed from the internet). */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === "/track") {
      const entry = (await request.json()) as TrackedRequest;
      await this.ctx.storage.put(trackKey(entry.transactionId), entry);
      await this.scheduleAlarm(Date.now() + REBROADCAST_INTERVAL_MS);
      return new Response(null, { status: 204 });
    }
    if (request.method === "POST" && url.pathname === "/publish") {
      const body = (await request.json()) as { owner: string; events: OwnerEvent[] };
      const stored = await this.publish(body.events);
      return Response.json({ published: stored });
    }
    if (url.pathname === "/connect" && request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      return this.acceptSocket(request, url);
    }
    return new Response("not found", { status: 404 });
  }

  /** Stores the events (assigning seqs), then pushes them to the ready sockets. Returns the last seq. */
  private async publish(events: OwnerEvent[]): Promise<number> {
    if (!Array.isArray(events) || events.length === 0) return 0;
    const stored = await appendEvents(this.ctx.storage, events);
    broadcast(this.ctx.getWebSockets(), stored);
    return stored[stored.length - 1]!.seq;
  }

  private async acceptSocket(request: Request, url: URL): Promise<Response> {
    const owner = request.headers.get("x-owner") ?? "";
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    if (!parsePubkey(owner)) {
      server.accept();
      server.close(CLOSE_INVALID_OWNER, "invalid owner: expected a base58 32-byte public key");
      return new Response(null, { status: 101, webSocket: client });
    }
    const sinceParam = url.searchParams.get("since");
    const since = sinceParam !== null && /^\d{1,15}$/.test(sinceParam) ? Number(sinceParam) : null;
    // First connection of this owner: ingestion did not publish here before, so older seqs cannot be replayed.
    if (request.headers.get("x-log-gap") === "1") await markGap(this.ctx.storage);
    this.ctx.acceptWebSocket(server, [owner]);
    this.reportSockets(owner);
    server.serializeAttachment({
      owner,
      ready: false,
      connectedAt: new Date().toISOString(),
    } satisfies SocketAttachment);
    try {
      await bringUpToDate(this.env, this.ctx.storage, server, owner, since);
    } catch (err) {
      this.log().warn("socket setup failed", { owner, error: err });
      server.close(1011, "hub could not load the owner's state; reconnect");
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    try {
      if (typeof message !== "string") return;
      // "ping" is auto-answered by the runtime; a JSON ping gets a JSON pong.
      const parsed = JSON.parse(message) as { type?: string; event?: string };
      if (parsed.type === "ping" || parsed.event === "ping") {
        ws.send(JSON.stringify({ event: "pong", data: {}, timestamp: new Date().toISOString(), seq: null }));
      }
    } catch {
      // Not JSON: clients may send anything; it is ignored.
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    this.socketGone(ws);
    try {
      // 1005/1006/1015 are reserved and may not be sent back (TOOLCHAIN.md).
      if (code === 1005 || code === 1006 || code === 1015) ws.close();
      else ws.close(code, reason);
    } catch {
      // Already closed.
    }
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    this.socketGone(ws);
    try {
      const attachment = ws.deserializeAttachment() as SocketAttachment | null;
      this.log().warn("websocket error", { owner: attachment?.owner, error });
      ws.close(1011, "socket error");
    } catch {
      // Already closed.
    }
  }

  override async alarm(): Promise<void> {
    const services = backgroundServices(this.env, { durableObject: "VaultOwnerHub", id: this.ctx.id.toString() });
    try {
      const remaining = await relayTick(this.ctx.storage, services, Date.now(), {
        announce: (events) => this.publish(events),
        kickIngestor: () => kickIngestor(this.env),
      });
      if (remaining > 0) await this.scheduleAlarm(Date.now() + REBROADCAST_INTERVAL_MS);
    } finally {
      await services.close();
    }
  }

  /** Tells the Metrics object how many sockets this owner has open now (after the response: no latency added). */
  private reportSockets(owner: string, leaving?: WebSocket): void {
    const open = this.ctx.getWebSockets().filter((s) => s !== leaving && s.readyState === WebSocket.OPEN).length;
    this.ctx.waitUntil(
      reportOpenSockets(this.env, owner, open).catch((err) =>
        this.log().warn("open sockets not reported", { error: err }),
      ),
    );
  }

  private socketGone(ws: WebSocket): void {
    try {
      const owner = (ws.deserializeAttachment() as SocketAttachment | null)?.owner;
      if (owner) this.reportSockets(owner, ws);
    } catch {
      // No attachment: nothing to report.
    }
  }

  /** Sets the alarm unless an earlier one is already set. */
  private async scheduleAlarm(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  private log(): Logger {
    return createLogger("warn", { durableObject: "VaultOwnerHub" });
  }
}

/** The owner's hub stub. */
export function ownerHub(env: Bindings, owner: string): DurableObjectStub<VaultOwnerHub> {
  return env.OWNER_HUB.get(env.OWNER_HUB.idFromName(owner));
}
