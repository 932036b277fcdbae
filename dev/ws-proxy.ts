import { createRequire } from "node:module";
import { connect, type Socket } from "node:net";
import type { WebSocket, WebSocketServer } from "ws";

// Under vitest, `import "ws"` can resolve the browser build; require() always gets the Node one (TOOLCHAIN.md).
const { WebSocketServer: Server } = createRequire(import.meta.url)("ws") as typeof import("ws");

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

export interface WsProxy {
  /** `host:port`, the value of NEON_WS_PROXY. */
  address: string;
  port: number;
  /** Closes the listener and every open tunnel. */
  close(): Promise<void>;
}

/**
 * The WebSocket→TCP proxy the Neon serverless driver needs when it talks to a plain PostgreSQL: each WebSocket
 * (`/?address=host:port`) becomes one TCP connection. Only loopback targets are allowed, so it is never an open relay.
 */
export function startWsProxy(opts: { port?: number; host?: string } = {}): Promise<WsProxy> {
  const host = opts.host ?? "127.0.0.1";
  const sockets = new Set<Socket>();
  const wss: WebSocketServer = new Server({ host, port: opts.port ?? 0 });
  wss.on("connection", (ws: WebSocket, req) => {
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
    wss.once("error", reject);
    wss.once("listening", () => {
      const address = wss.address();
      const port = typeof address === "object" && address ? address.port : 0;
      resolve({
        address: `${host}:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            for (const client of wss.clients) client.terminate();
            for (const socket of sockets) socket.destroy();
            wss.close(() => done());
          }),
      });
    });
  });
}
