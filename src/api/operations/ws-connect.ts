import { sql } from "drizzle-orm";
import { socketSubscribers } from "../../db/schema.ts";
import { AppError } from "../../lib/errors.ts";
import { parsePubkey } from "../../lib/pubkey.ts";
import type { Services } from "../../platform/services.ts";
import { ownerHub } from "../../platform/stubs.ts";
import { type ConnectTerms, connectUrl } from "../../realtime/owner-hub.ts";
import { CLOSE_INVALID_OWNER } from "../../realtime/sockets.ts";
import { defineOperation } from "../operation.ts";
import { clientId, UNIDENTIFIED_CLIENT } from "../rate-limit.ts";

/**
 * GET /ws/{owner} — the owner's event stream. The upgrade is forwarded to the owner's hub, which accepts it with
 * the hibernation API (Hono's upgradeWebSocket would pin the Worker instead). `?since=<seq>` replays missed events.
 * `?nonce=…&signature=…` (from GET /ws/:owner/nonce, signed by the owner's wallet) makes the socket authenticated:
 * it is never refused by the per-owner cap on anonymous sockets.
 */
export default defineOperation({
  method: "get",
  path: "/ws/{owner}",
  summary:
    "WebSocket of the owner's events: messages { event, data, timestamp, seq }; a snapshot on connect; ?since=<seq> replays missed events (or sends resync). A connection subscribes the owner (events are recorded while the owner listens and SUBSCRIPTION_TTL after, so an older since gets resync). ?nonce=&signature= (GET /ws/{owner}/nonce, signed by the owner's wallet) authenticates the socket. Close codes: 4400 invalid owner, 4401 sign-in failed, 4429 too many anonymous sockets for the owner or the client",
  tag: "realtime",
  limit: "ws",
  success: {
    status: 101,
    description: "Switching Protocols: the socket is open (events are described as WsEvent_<event>)",
  },
  errors: ["UPGRADE_REQUIRED", "RATE_LIMITED", "SERVICE_UNAVAILABLE"],
  handler: async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new AppError("UPGRADE_REQUIRED", "Connect with a WebSocket (Upgrade: websocket)");
    }
    const owner = c.req.param("owner") ?? "";
    if (!parsePubkey(owner)) {
      // Accept and close at once: a browser only sees a close code and reason, never an HTTP error body.
      const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
      server.accept();
      server.close(CLOSE_INVALID_OWNER, "invalid owner: expected a base58 32-byte public key");
      return new Response(null, { status: 101, webSocket: client });
    }
    const services = c.get("services");
    const { config } = services;
    const firstConnection = await subscribe(services, owner);
    const query = new URL(c.req.url).searchParams;
    const param = (name: string) => query.get(name)?.slice(0, 256) ?? null;
    const since = param("since");
    // The Worker's configuration decides the caps; the hub, which sees its own sockets, enforces them.
    const client = clientId(c);
    // Without a trusted client address every client would share one cap: the per-client cap is then off.
    const perClient = client !== UNIDENTIFIED_CLIENT && config.wsMaxAnonymousPerClient > 0;
    const terms: ConnectTerms = {
      owner,
      since: since !== null && /^\d{1,15}$/.test(since) ? Number(since) : null,
      nonce: param("nonce"),
      signature: param("signature"),
      anonPerOwner: config.wsMaxAnonymousPerOwner,
      client: perClient ? client : null,
      anonPerClient: perClient ? config.wsMaxAnonymousPerClient : 0,
      // Events before this point were not published to the hub: a `since` from before it must get `resync`.
      logGap: firstConnection,
    };
    return ownerHub(c.env, owner).fetch(connectUrl(terms), { headers: { upgrade: "websocket" } });
  },
});

/**
 * Records that the owner listens (ingestion publishes only to current listeners). True when ingestion was not
 * publishing to this owner until now — a first connection, or one after the subscription expired — so the hub marks
 * a gap in its log. One autocommit statement over the HTTP handle. Without the record live events could be skipped,
 * so a database failure refuses the connection (503) rather than opening a socket that may stay silent.
 */
async function subscribe(services: Services, owner: string): Promise<boolean> {
  const ttl = services.config.subscriptionTtlSec;
  try {
    const rows = await services.reads().execute<{ resumed: boolean }>(sql`
      with prev as (
        select ${socketSubscribers.hasSockets} as has_sockets, ${socketSubscribers.lastSocketAt} as last_socket_at
        from ${socketSubscribers} where ${socketSubscribers.owner} = ${owner}
      )
      insert into ${socketSubscribers} (owner, has_sockets, last_socket_at)
      values (${owner}, true, now())
      on conflict (owner) do update set last_connected_at = now(), has_sockets = true, last_socket_at = now()
      returning
        (xmax = 0)
        or coalesce((select not p.has_sockets and p.last_socket_at < now() - make_interval(secs => ${ttl}) from prev p), false)
        as resumed`);
    return rows.rows[0]?.resumed === true;
  } catch (err) {
    services.log.warn("socket subscription not recorded", { owner, error: err });
    throw new AppError("SERVICE_UNAVAILABLE", "Live updates are unavailable right now; reconnect shortly");
  }
}
