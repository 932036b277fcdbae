/**
 * HTTP front of the localnet: JSON-RPC on POST, the dev controls under /localnet/, CORS for any origin, and
 * fault injection (which applies to JSON-RPC requests only, never to /localnet/*).
 */

import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { Chain } from "./engine.ts";
import { handleRpc } from "./rpc.ts";

export interface Faults {
  failNext: number;
  status: 429 | 500;
  latencyMs: number;
}

/** What the /localnet/ controls need from the running localnet. */
export interface Controls {
  fund(address: string, lamports: bigint | undefined, usdt: bigint | undefined): Promise<unknown>;
  info(): Record<string, unknown>;
  dropPubsub(): void;
}

const CORS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
  "Access-Control-Allow-Headers": "*",
  "Access-Control-Max-Age": "86400",
};

/** Fresh (no) faults. */
export function noFaults(): Faults {
  return { failNext: 0, status: 429, latencyMs: 0 };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...CORS, "Content-Type": "application/json", ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** An amount from JSON: a safe non-negative integer or a decimal string of digits. */
export function parseAmount(v: unknown): bigint | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === "string" && /^\d+$/.test(v)) return BigInt(v);
  throw new Error("amounts must be non-negative integers (number or decimal string)");
}

async function control(chain: Chain, controls: Controls, faults: Faults, req: IncomingMessage, path: string) {
  const body = req.method === "POST" ? JSON.parse((await readBody(req)) || "{}") : {};
  if (req.method === "GET" && path === "/localnet/info") return controls.info();
  if (req.method === "POST" && path === "/localnet/fund") {
    return controls.fund(String(body.address), parseAmount(body.lamports), parseAmount(body.usdt));
  }
  if (req.method === "POST" && path === "/localnet/advance") {
    chain.advanceSlots(Number(parseAmount(body.slots) ?? 1n));
    return { slot: chain.clock.slot, finalizedSlot: chain.clock.slotAt("finalized") };
  }
  if (req.method === "POST" && path === "/localnet/expire-blockhashes") {
    chain.expireBlockhashes();
    return { blockhash: chain.clock.latestBlockhash("processed").blockhash };
  }
  if (path === "/localnet/faults" && req.method === "DELETE") {
    Object.assign(faults, noFaults());
    chain.clock.stallFinalization = false;
    return { faults };
  }
  if (path === "/localnet/faults" && req.method === "POST") {
    if (body.failNext !== undefined) faults.failNext = Number(parseAmount(body.failNext));
    if (body.status !== undefined) faults.status = body.status === 500 ? 500 : 429;
    if (body.latencyMs !== undefined) faults.latencyMs = Number(parseAmount(body.latencyMs));
    if (body.stallFinalization !== undefined) chain.clock.stallFinalization = body.stallFinalization === true;
    if (body.dropPubsub === true) controls.dropPubsub();
    return { faults, stallFinalization: chain.clock.stallFinalization };
  }
  return null;
}

async function rpc(chain: Chain, faults: Faults, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs));
  if (faults.failNext > 0) {
    faults.failNext -= 1;
    await readBody(req);
    const headers: Record<string, string> = faults.status === 429 ? { "Retry-After": "1" } : {};
    const message =
      faults.status === 429
        ? "Too many requests (localnet fault injection)"
        : "Internal server error (localnet fault injection)";
    return json(
      res,
      faults.status,
      { jsonrpc: "2.0", error: { code: faults.status === 429 ? 429 : -32603, message }, id: null },
      headers,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req));
  } catch {
    return json(res, 200, { jsonrpc: "2.0", error: { code: -32700, message: "Parse error" }, id: null });
  }
  json(res, 200, handleRpc(chain, body));
}

/** Creates (but does not start) the RPC + controls HTTP server. */
export function createRpcServer(chain: Chain, controls: Controls, faults: Faults): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const handle = async () => {
      if (req.method === "OPTIONS") {
        res.writeHead(204, CORS);
        return res.end();
      }
      if (path.startsWith("/localnet/")) {
        const out = await control(chain, controls, faults, req, path);
        return out === null ? json(res, 404, { error: "unknown control endpoint" }) : json(res, 200, out);
      }
      if (req.method === "GET" && path === "/health") {
        res.writeHead(200, { ...CORS, "Content-Type": "text/plain" });
        return res.end("ok");
      }
      if (req.method !== "POST")
        return json(res, 405, { error: "Used HTTP Method is not allowed. POST or OPTIONS is required" });
      return rpc(chain, faults, req, res);
    };
    handle().catch((e: unknown) => json(res, 400, { error: (e as Error).message }));
  });
}
