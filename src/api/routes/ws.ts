import { sql } from "drizzle-orm";
import { Hono } from "hono";
import { socketSubscribers } from "../../db/schema.ts";
import type { AppEnv, Services } from "../../env.ts";
import { parsePubkey } from "../../lib/pubkey.ts";
import { ownerHub } from "../../realtime/owner-hub.ts";
import { CLOSE_INVALID_OWNER } from "../../realtime/sockets.ts";
import { AppError } from "../errors.ts";

/**
 * GET /ws/:owner — the owner's event stream. The upgrade is forwarded to the owner's hub, which accepts it with
 * the hibernation API (Hono's upgradeWebSocket would pin the Worker instead). `?since=<seq>` replays missed events.
 */
export const wsRoutes = new Hono<AppEnv>();

wsRoutes.get("/ws/:owner", async (c) => {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new AppError("UPGRADE_REQUIRED", "Connect with a WebSocket (Upgrade: websocket)");
  }
  const owner = c.req.param("owner");
  if (!parsePubkey(owner)) {
    // Accept and close at once: a browser only sees a close code and reason, never an HTTP error body.
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    server.accept();
    server.close(CLOSE_INVALID_OWNER, "invalid owner: expected a base58 32-byte public key");
    return new Response(null, { status: 101, webSocket: client });
  }
  const firstConnection = await subscribe(c.get("services"), owner);
  const since = new URL(c.req.url).searchParams.get("since");
  const target = new URL("https://owner-hub/connect");
  if (since !== null) target.searchParams.set("since", since);
  return ownerHub(c.env, owner).fetch(target.toString(), {
    headers: {
      upgrade: "websocket",
      "x-owner": owner,
      // Events before this point were not published to the hub: a `since` from before it must get `resync`.
      ...(firstConnection ? { "x-log-gap": "1" } : {}),
    },
  });
});

/**
 * Records that the owner listens (ingestion publishes only to such owners); true on the owner's first connection.
 * One autocommit statement over the HTTP handle. Without the record live events could be skipped, so a database
 * failure refuses the connection (503) rather than opening a socket that may stay silent.
 */
async function subscribe(services: Services, owner: string): Promise<boolean> {
  try {
    const [row] = await services
      .reads()
      .insert(socketSubscribers)
      .values({ owner })
      .onConflictDoUpdate({ target: socketSubscribers.owner, set: { lastConnectedAt: sql`now()` } })
      // xmax is 0 on a row this statement inserted, the updater's id on one it updated.
      .returning({ inserted: sql<boolean>`(xmax = 0)` });
    return row?.inserted === true;
  } catch (err) {
    services.log.warn("socket subscription not recorded", { owner, error: err });
    throw new AppError("SERVICE_UNAVAILABLE", "Live updates are unavailable right now; reconnect shortly");
  }
}
