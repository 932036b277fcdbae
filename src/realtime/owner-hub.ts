import { DurableObject } from "cloudflare:workers";
import { ed25519 } from "@noble/curves/ed25519";
import bs58 from "bs58";
import type { Bindings } from "../env.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { parsePubkey } from "../lib/pubkey.ts";
import { reportOpenSockets } from "../platform/metrics/collector.ts";
import { rateLimiter } from "../platform/rate-limiter.ts";
import { backgroundServices } from "../platform/services.ts";
import { kickIngestor } from "../platform/stubs.ts";
import type { TrackedRequest } from "../vault/relay.ts";
import { appendEvents, eventSlot, latestSeq, markGap } from "./event-log.ts";
import type { OwnerEvent } from "./events.ts";
import { REBROADCAST_INTERVAL_MS, relayTick, trackKey } from "./relay-tracker.ts";
import {
  bringUpToDate,
  broadcast,
  CLOSE_AUTH_FAILED,
  CLOSE_INVALID_OWNER,
  CLOSE_TOO_MANY_SOCKETS,
  type SocketAttachment,
} from "./sockets.ts";

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

  /**
   * The WebSocket upgrade, the one thing fetch does (an upgrade is a request): the Worker forwards the client's
   * upgrade with the socket's terms in the query (ConnectTerms, built by `connectUrl`).
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    return this.acceptSocket(readConnectTerms(new URL(request.url)));
  }

  /** RPC: follows a relayed request on the alarm until it lands or expires. */
  async track(entry: TrackedRequest): Promise<void> {
    await this.ctx.storage.put(trackKey(entry.transactionId), entry);
    await this.scheduleAlarm(Date.now() + REBROADCAST_INTERVAL_MS);
  }

  /**
   * RPC: stores the events (assigning seqs), pushes them to the ready sockets, and says how many sockets were open
   * (0 tells ingestion the owner no longer listens: the subscription starts to expire).
   */
  async publishEvents(events: OwnerEvent[]): Promise<{ published: number; sockets: number }> {
    const published = await this.publish(events);
    const sockets = this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN).length;
    return { published, sockets };
  }

  /** Stores the events (assigning seqs), then pushes them to the ready sockets. Returns the last seq. */
  private async publish(events: OwnerEvent[]): Promise<number> {
    if (!Array.isArray(events) || events.length === 0) return 0;
    const fresh = this.dropOlderBalances(events);
    if (fresh.length === 0) return latestSeq(this.ctx.storage);
    const stored = await appendEvents(this.ctx.storage, fresh);
    broadcast(this.ctx.getWebSockets(), stored);
    return stored[stored.length - 1]!.seq;
  }

  /**
   * A balance_update never shows an older balance than one already sent: one reflecting a slot below the newest
   * balance this hub stored (e.g. a reconciliation read that raced an ingestion commit) is dropped.
   */
  private dropOlderBalances(events: OwnerEvent[]): OwnerEvent[] {
    let newest = this.ctx.storage.kv.get<string>("balanceSlot");
    const out: OwnerEvent[] = [];
    for (const e of events) {
      if (e.event === "balance_update") {
        const slot = eventSlot(e);
        if (slot !== null) {
          if (newest !== undefined && BigInt(slot) < BigInt(newest)) continue;
          newest = BigInt(slot).toString();
        }
      }
      out.push(e);
    }
    if (newest !== undefined) this.ctx.storage.kv.put("balanceSlot", newest);
    return out;
  }

  /**
   * Keeps a sign-in nonce and the exact message the owner's wallet is to sign, until it is used or expires. At most
   * MAX_NONCES are kept per owner (the oldest go first), so asking for nonces cannot grow the hub's storage.
   */
  async storeNonce(nonce: string, message: string, expiresAt: number): Promise<void> {
    const now = Date.now();
    const kept = Object.entries(this.ctx.storage.kv.get<Record<string, PendingNonce>>("nonces") ?? {})
      .filter(([, n]) => n.expiresAt > now)
      .sort(([, a], [, b]) => a.expiresAt - b.expiresAt)
      .slice(-(MAX_NONCES - 1));
    this.ctx.storage.kv.put("nonces", Object.fromEntries([...kept, [nonce, { message, expiresAt }]]));
  }

  /** Uses up a nonce (whatever the outcome) and says whether the signature proves the owner signed its message. */
  private verifySignIn(owner: string, nonce: string, signature: string): string | null {
    const nonces = this.ctx.storage.kv.get<Record<string, PendingNonce>>("nonces") ?? {};
    const pending = nonces[nonce];
    if (pending) {
      delete nonces[nonce];
      this.ctx.storage.kv.put("nonces", nonces);
    }
    if (!pending) return "unknown or already used nonce; ask GET /ws/:owner/nonce for a new one";
    if (pending.expiresAt <= Date.now()) return "nonce expired; ask GET /ws/:owner/nonce for a new one";
    const key = parsePubkey(owner);
    let sig: Uint8Array;
    try {
      sig = bs58.decode(signature);
    } catch {
      return "signature must be base58";
    }
    if (!key || sig.length !== 64) return "signature must be a base58 64-byte ed25519 signature";
    try {
      if (ed25519.verify(sig, new TextEncoder().encode(pending.message), key.toBytes())) return null;
    } catch {
      // A malformed point or signature is simply not a valid signature.
    }
    return "signature does not verify against the owner's key and the nonce's message";
  }

  private async acceptSocket(terms: ConnectTerms): Promise<Response> {
    const { owner, nonce, signature } = terms;
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    const refuse = (code: number, reason: string) => {
      server.accept();
      server.close(code, reason);
      return new Response(null, { status: 101, webSocket: client });
    };
    if (!parsePubkey(owner)) return refuse(CLOSE_INVALID_OWNER, "invalid owner: expected a base58 32-byte public key");
    const authenticated = nonce !== null || signature !== null;
    let lease: SocketAttachment["lease"];
    if (authenticated) {
      const failure =
        nonce && signature ? this.verifySignIn(owner, nonce, signature) : "sign-in needs both nonce and signature";
      if (failure) return refuse(CLOSE_AUTH_FAILED, failure);
    } else {
      const perOwner = terms.anonPerOwner;
      const anonymous = this.ctx
        .getWebSockets()
        .filter((ws) => ws.readyState === WebSocket.OPEN && !attachmentOf(ws)?.authenticated).length;
      if (perOwner > 0 && anonymous >= perOwner) {
        return refuse(
          CLOSE_TOO_MANY_SOCKETS,
          "too many anonymous sockets for this owner; sign in (GET /ws/:owner/nonce) to connect",
        );
      }
      const clientKey = terms.client;
      const perClient = terms.anonPerClient;
      if (clientKey && perClient > 0) {
        const id = crypto.randomUUID();
        const limiter = rateLimiter(this.env, `ws-sockets:${clientKey}`);
        let admitted = true;
        try {
          admitted = await limiter.acquire(id, perClient, LEASE_TTL_MS);
        } catch (err) {
          // Same policy as the request limits: the cap is not enforced across the fleet while its object fails,
          // and the per-owner cap above still holds.
          this.log().warn("socket cap unavailable; socket admitted", { error: err });
        }
        if (!admitted) return refuse(CLOSE_TOO_MANY_SOCKETS, "too many sockets from this client; close one first");
        lease = { client: clientKey, id };
      }
    }
    const since = terms.since;
    // First connection of this owner: ingestion did not publish here before, so older seqs cannot be replayed.
    if (terms.logGap) await markGap(this.ctx.storage);
    this.ctx.acceptWebSocket(server, [owner]);
    this.reportSockets(owner);
    server.serializeAttachment({
      owner,
      ready: false,
      connectedAt: new Date().toISOString(),
      authenticated,
      ...(lease ? { lease } : {}),
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
        ws.send(
          JSON.stringify({
            event: "pong",
            data: {},
            timestamp: new Date().toISOString(),
            seq: null,
            slot: null,
            commitment: null,
          }),
        );
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
    const attachment = attachmentOf(ws);
    if (attachment?.owner) this.reportSockets(attachment.owner, ws);
    const lease = attachment?.lease;
    if (lease) {
      // Once per socket: the lease is dropped from the attachment before it is given back.
      try {
        ws.serializeAttachment({ ...attachment, lease: undefined });
      } catch {
        // A closed socket may refuse a new attachment; release is idempotent anyway.
      }
      this.ctx.waitUntil(
        rateLimiter(this.env, `ws-sockets:${lease.client}`)
          .release(lease.id)
          .catch((err) => this.log().warn("socket lease not released (it lapses)", { error: err })),
      );
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

interface PendingNonce {
  message: string;
  expiresAt: number;
}

/** Sign-in nonces kept per owner at most. */
const MAX_NONCES = 16;

/** How long a client's lease on one anonymous socket counts if its release never arrives. */
const LEASE_TTL_MS = 6 * 60 * 60 * 1000;

/** What the Worker decided about a socket before handing its upgrade to the owner's hub. */
export interface ConnectTerms {
  owner: string;
  /** The client's last seen seq: events after it are replayed (or `resync` is sent). */
  since: number | null;
  nonce: string | null;
  signature: string | null;
  /** Caps on anonymous sockets (0 = off), from the Worker's configuration; the hub sees its sockets and enforces. */
  anonPerOwner: number;
  client: string | null;
  anonPerClient: number;
  /** Ingestion did not publish to this owner until now: a `since` from before must get `resync`. */
  logGap: boolean;
}

/** The upgrade URL that carries the terms to the hub (the upgrade itself must be a fetch). */
export function connectUrl(terms: ConnectTerms): string {
  const url = new URL("https://owner-hub/connect");
  for (const [key, value] of Object.entries(terms)) {
    if (value !== null) url.searchParams.set(key, String(value));
  }
  return url.toString();
}

function readConnectTerms(url: URL): ConnectTerms {
  const q = url.searchParams;
  const cap = (name: string) => {
    const value = Number(q.get(name) ?? "0");
    return Number.isSafeInteger(value) && value > 0 ? value : 0;
  };
  const since = q.get("since");
  return {
    owner: q.get("owner") ?? "",
    since: since !== null && /^\d{1,15}$/.test(since) ? Number(since) : null,
    nonce: q.get("nonce"),
    signature: q.get("signature"),
    anonPerOwner: cap("anonPerOwner"),
    client: q.get("client"),
    anonPerClient: cap("anonPerClient"),
    logGap: q.get("logGap") === "true",
  };
}

function attachmentOf(ws: WebSocket): SocketAttachment | null {
  try {
    return ws.deserializeAttachment() as SocketAttachment | null;
  } catch {
    return null;
  }
}
