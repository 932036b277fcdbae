import { createServer } from "node:http";
import { createRequire } from "node:module";
import { connect, type Socket } from "node:net";
import type { WebSocket, WebSocketServer } from "ws";
import { createSqlEndpoint, LOOPBACK } from "./sql-endpoint.ts";

// Under vitest, `import "ws"` can resolve the browser build; require() always gets the Node one (TOOLCHAIN.md).
const { WebSocketServer: Server } = createRequire(import.meta.url)("ws") as typeof import("ws");

export interface WsProxy {
  /** `host:port`, the value of NEON_WS_PROXY (WebSocket tunnel at `/`, SQL over HTTP at `/sql`). */
  address: string;
  port: number;
  /** Closes the listener, every open tunnel and the SQL endpoint's pools. */
  close(): Promise<void>;
}

/**
 * What the Neon serverless driver needs to talk to a plain PostgreSQL, on one port: the WebSocket→TCP proxy of
 * `Pool`/`Client` (each WebSocket `/?address=host:port` becomes one TCP connection) and the SQL-over-HTTP endpoint
 * of `neon()` (`POST /sql`, see sql-endpoint.ts). Only loopback targets are allowed, so it is never an open relay.
 */
export function startWsProxy(opts: { port?: number; host?: string; tunnel?: boolean } = {}): Promise<WsProxy> {
  const host = opts.host ?? "127.0.0.1";
  const sockets = new Set<Socket>();
  const sql = createSqlEndpoint();
  const server = createServer((req, res) => {
    if (sql.handle(req, res)) return;
    res.writeHead(426, { "content-type": "text/plain" }).end("WebSocket upgrade or POST /sql expected");
  });
  const wss: WebSocketServer = new Server({ server });
  wss.on("connection", (ws: WebSocket, req) => {
    // `tunnel: false` (tests) serves /sql alone: whatever still opens a pool through it fails.
    if (opts.tunnel === false) {
      ws.close(1008, "this proxy serves POST /sql only");
      return;
    }
    const target = new URL(req.url ?? "/", "http://proxy").searchParams.get("address") ?? "";
    const split = target.lastIndexOf(":");
    const targetHost = target.slice(0, split);
    const targetPort = Number(target.slice(split + 1));
    if (!LOOPBACK.has(targetHost) || !Number.isInteger(targetPort) || targetPort <= 0 || targetPort > 65535) {
      ws.close(1008, "only loopback targets are allowed");
      return;
    }
    const tcp = connect(targetPort, targetHost.replace(/^\[|\]$/g, ""));
    // Without it Nagle holds the driver's small writes until Postgres's delayed ACK (~40 ms per round trip).
    tcp.setNoDelay(true);
    sockets.add(tcp);
    tcp.on("data", (chunk) => {
      if (ws.readyState === ws.OPEN) ws.send(chunk);
    });
    tcp.on("close", () => {
      sockets.delete(tcp);
      if (ws.readyState === ws.OPEN) ws.close();
    });
    tcp.on("error", () => ws.terminate());
    ws.on("message", (data: Buffer) => tcp.write(data));
    ws.on("close", () => tcp.destroy());
    ws.on("error", () => tcp.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      resolve({
        address: `${host}:${port}`,
        port,
        close: async () => {
          for (const client of wss.clients) client.terminate();
          for (const socket of sockets) socket.destroy();
          await new Promise<void>((done) => wss.close(() => done()));
          // Keep-alive HTTP connections (the Worker's fetches) would hold server.close() open.
          server.closeAllConnections();
          await new Promise<void>((done) => server.close(() => done()));
          await sql.close();
        },
      });
    });
  });
}
