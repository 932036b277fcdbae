import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A pass-through HTTP proxy in front of the localnet's JSON-RPC that counts requests and methods. */
export interface RpcCounter {
  url: string;
  requests: number;
  methods: Map<string, number>;
  reset(): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Starts the counter on a free port, forwarding to `target`. */
export async function startRpcCounter(target: string): Promise<RpcCounter> {
  const counter = {
    url: "",
    requests: 0,
    methods: new Map<string, number>(),
    reset() {
      counter.requests = 0;
      counter.methods.clear();
    },
    close: async () => {},
  };
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    counter.requests++;
    try {
      const parsed = JSON.parse(body.toString()) as { method?: string } | { method?: string }[];
      for (const call of Array.isArray(parsed) ? parsed : [parsed]) {
        const m = call.method ?? "?";
        counter.methods.set(m, (counter.methods.get(m) ?? 0) + 1);
      }
    } catch {
      // Not JSON: forwarded as is.
    }
    try {
      const upstream = await fetch(target + (req.url ?? "/"), {
        method: req.method,
        headers: { "content-type": req.headers["content-type"] ?? "application/json" },
        body: req.method === "GET" ? undefined : new Uint8Array(body),
      });
      const out = Buffer.from(await upstream.arrayBuffer());
      res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json" });
      res.end(out);
    } catch {
      res.writeHead(502).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  counter.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  counter.close = () => new Promise<void>((r) => server.close(() => r()));
  server.keepAliveTimeout = 30_000;
  return counter;
}
