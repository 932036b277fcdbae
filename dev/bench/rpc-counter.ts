import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A pass-through HTTP proxy in front of a localnet JSON-RPC front that counts what the Worker asks: HTTP requests,
 * JSON-RPC items (each batch item, as providers count them), items per method, and 429s received (an HTTP 429
 * refuses every item of its request; a per-item 429 one item).
 */
export interface RpcCounter {
  url: string;
  requests: number;
  items: number;
  rateLimited: number;
  methods: Map<string, number>;
  /** The largest response body forwarded since the last reset, in bytes, and the methods of its request. */
  largestResponse: { bytes: number; methods: string };
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

/** Items of a JSON-RPC answer refused for the budget. */
function limitedItems(body: Buffer): number {
  try {
    const parsed = JSON.parse(body.toString()) as { error?: { code?: number } } | { error?: { code?: number } }[];
    const list = Array.isArray(parsed) ? parsed : [parsed];
    return list.filter((r) => r.error?.code === 429 || r.error?.code === -32429).length;
  } catch {
    return 0;
  }
}

/** Starts the counter on a free port, forwarding to `target`. */
export async function startRpcCounter(target: string): Promise<RpcCounter> {
  const counter = {
    url: "",
    requests: 0,
    items: 0,
    rateLimited: 0,
    methods: new Map<string, number>(),
    largestResponse: { bytes: 0, methods: "" },
    reset() {
      counter.requests = 0;
      counter.items = 0;
      counter.rateLimited = 0;
      counter.methods.clear();
      counter.largestResponse = { bytes: 0, methods: "" };
    },
    close: async () => {},
  };
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    counter.requests++;
    let items = 1;
    let asked = "";
    try {
      const parsed = JSON.parse(body.toString()) as { method?: string } | { method?: string }[];
      const calls = Array.isArray(parsed) ? parsed : [parsed];
      items = calls.length;
      asked = [...new Set(calls.map((c) => c.method ?? "?"))].join("+");
      for (const call of calls) {
        const m = call.method ?? "?";
        counter.methods.set(m, (counter.methods.get(m) ?? 0) + 1);
      }
    } catch {
      // Not JSON: forwarded as is.
    }
    counter.items += items;
    try {
      const upstream = await fetch(target + (req.url ?? "/"), {
        method: req.method,
        headers: { "content-type": req.headers["content-type"] ?? "application/json" },
        body: req.method === "GET" ? undefined : new Uint8Array(body),
      });
      const out = Buffer.from(await upstream.arrayBuffer());
      if (out.length > counter.largestResponse.bytes) counter.largestResponse = { bytes: out.length, methods: asked };
      counter.rateLimited += upstream.status === 429 ? items : limitedItems(out);
      const headers: Record<string, string> = {
        "content-type": upstream.headers.get("content-type") ?? "application/json",
      };
      const retryAfter = upstream.headers.get("retry-after");
      if (retryAfter) headers["retry-after"] = retryAfter;
      res.writeHead(upstream.status, headers);
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
