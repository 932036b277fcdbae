/**
 * A local HTTP receiver for the alert webhooks: it records every POST by path and answers 200, or fails on request.
 * The tests start it in their globalSetup; `npm run webhook-receiver` runs it alone and prints what arrives, so an
 * operator can try alert delivery with `ALERT_WEBHOOK_URL=http://127.0.0.1:8790/ops npm run dev`.
 *
 *   POST /<path>              records { path, headers, body, answered } and answers (200 unless a plan says otherwise)
 *   PUT  /__plan/<path>       { failures, status, retryAfter?, match? }: the next `failures` POSTs to /<path> (whose
 *                             body contains `match`, when given) get `status`
 *   GET  /__received/<path>   everything recorded for /<path>, oldest first
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { pathToFileURL } from "node:url";

export interface ReceivedCall {
  path: string;
  headers: Record<string, string>;
  body: unknown;
  /** The status this receiver answered. */
  answered: number;
  at: string;
}

export interface WebhookReceiver {
  url: string;
  close(): Promise<void>;
}

interface Plan {
  failures: number;
  status: number;
  retryAfter?: number;
  /** Only bodies containing this text fail (other senders on the same path are answered normally). */
  match?: string;
}

const MAX_BODY = 1024 * 1024;

export async function startWebhookReceiver(opts: { port?: number; onCall?: (call: ReceivedCall) => void } = {}) {
  const received = new Map<string, ReceivedCall[]>();
  const plans = new Map<string, Plan>();
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://receiver");
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    };
    try {
      if (req.method === "GET" && url.pathname.startsWith("/__received/")) {
        return reply(200, received.get(url.pathname.slice("/__received".length)) ?? []);
      }
      const body = await readJson(req);
      if (req.method === "PUT" && url.pathname.startsWith("/__plan/")) {
        plans.set(url.pathname.slice("/__plan".length), body as Plan);
        return reply(204, null);
      }
      if (req.method !== "POST") return reply(405, { error: "POST only" });
      const plan = plans.get(url.pathname);
      const failing = plan && plan.failures > 0 && (!plan.match || JSON.stringify(body).includes(plan.match));
      if (failing) plan.failures--;
      const answered = failing ? plan.status : 200;
      const call: ReceivedCall = {
        path: url.pathname,
        headers: Object.fromEntries(
          Object.entries(req.headers).flatMap(([k, v]) => (typeof v === "string" ? [[k, v]] : [])),
        ),
        body,
        answered,
        at: new Date().toISOString(),
      };
      received.set(url.pathname, [...(received.get(url.pathname) ?? []), call]);
      opts.onCall?.(call);
      const retryAfter: Record<string, string> =
        failing && plan.retryAfter !== undefined ? { "retry-after": String(plan.retryAfter) } : {};
      return reply(answered, failing ? { error: "planned failure" } : { ok: true }, retryAfter);
    } catch (err) {
      return reply(400, { error: err instanceof Error ? err.message : String(err) });
    }
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  } satisfies WebhookReceiver;
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) reject(new Error("body too large"));
      else chunks.push(chunk);
    });
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString();
      try {
        resolve(text ? JSON.parse(text) : null);
      } catch {
        resolve(text);
      }
    });
    req.on("error", reject);
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const port = Number(process.env.RECEIVER_PORT ?? 8790);
  const receiver = await startWebhookReceiver({
    port,
    onCall: (call) =>
      console.log(`${call.at} POST ${call.path} → ${call.answered}\n${JSON.stringify(call.body, null, 2)}`),
  });
  console.log(`webhook receiver on ${receiver.url} — e.g. ALERT_WEBHOOK_URL=${receiver.url}/ops npm run dev`);
  const stop = () => void receiver.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
