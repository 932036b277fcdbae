import { Hono } from "hono";
import type { AppEnv } from "../../env.ts";
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
  const since = new URL(c.req.url).searchParams.get("since");
  const target = new URL("https://owner-hub/connect");
  if (since !== null) target.searchParams.set("since", since);
  return ownerHub(c.env, owner).fetch(target.toString(), {
    headers: { upgrade: "websocket", "x-owner": owner },
  });
});
