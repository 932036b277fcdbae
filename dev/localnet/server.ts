/**
 * HTTP front of the localnet: JSON-RPC on POST, the dev controls under /localnet/, CORS for any origin, the
 * front's provider profile (latency, budgets, lagging nodes, history horizon — see profile.ts) and fault injection.
 * The profile and the faults apply to JSON-RPC requests only, never to /localnet/*. Several fronts can serve one
 * chain, each with its own profile (e.g. a provider front and an archival one).
 */

import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { Chain } from "./engine.ts";
import { makeProfile, PROFILE_ENV, type Profile } from "./profile.ts";
import { handleOne, type RpcReply } from "./rpc.ts";
import { answerLimited, chargeItems, laggedView, limitReply, type Meter, newMeter } from "./throttle.ts";

/**
 * One-shot faults: the next `failNext` JSON-RPC requests fail with 429 or 500; the next `lagNext` requests (only
 * those that call `lagMethod`, when set) are answered by a node `lagSlots` behind, whatever `lagShare` says.
 */
export interface Faults {
  failNext: number;
  status: 429 | 500;
  lagNext: number;
  lagMethod: string | null;
}

/** A front's behaviour: the profile it started with, the one in force, its one-shot faults and its meter. */
export interface Front {
  readonly initial: Profile;
  profile: Profile;
  faults: Faults;
  meter: Meter;
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

/** A front with the given profile and no faults. */
export function newFront(profile: Profile): Front {
  return { initial: profile, profile, faults: noFaults(), meter: newMeter(profile, Date.now()) };
}

function noFaults(): Faults {
  return { failNext: 0, status: 429, lagNext: 0, lagMethod: null };
}

/** What /localnet/info and /localnet/faults report about a front. */
export function describeFront(front: Front): Record<string, unknown> {
  return {
    faults: { ...front.faults, latencyMs: front.profile.latencyMs },
    profile: front.profile,
    served: front.meter.served,
  };
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

/** Applies POST /localnet/faults: one-shot faults, a named profile and any knob of it. */
function setFaults(front: Front, body: Record<string, unknown>): void {
  if (body.failNext !== undefined) front.faults.failNext = Number(parseAmount(body.failNext));
  if (body.status !== undefined) front.faults.status = body.status === 500 ? 500 : 429;
  if (body.lagNext !== undefined) front.faults.lagNext = Number(parseAmount(body.lagNext));
  if (body.lagMethod !== undefined) front.faults.lagMethod = typeof body.lagMethod === "string" ? body.lagMethod : null;
  const knobs = Object.fromEntries(Object.keys(PROFILE_ENV).map((k) => [k, body[k]]));
  const named = typeof body.profile === "string" ? makeProfile(body.profile) : front.profile;
  const changed = typeof body.profile === "string" || Object.values(knobs).some((v) => v !== undefined);
  if (!changed) return;
  front.profile = { ...named, ...stripUndefined(makeProfile("ideal", knobs), knobs) };
  front.meter = newMeter(front.profile, Date.now(), front.meter.served);
}

/** The knobs the caller actually gave, validated by makeProfile. */
function stripUndefined(parsed: Profile, given: Record<string, unknown>): Partial<Profile> {
  return Object.fromEntries(Object.entries(parsed).filter(([k]) => given[k] !== undefined)) as Partial<Profile>;
}

async function control(chain: Chain, controls: Controls, front: Front, req: IncomingMessage, path: string) {
  const body = req.method === "POST" ? JSON.parse((await readBody(req)) || "{}") : {};
  if (req.method === "GET" && path === "/localnet/info") return { ...controls.info(), ...describeFront(front) };
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
    front.faults = noFaults();
    front.profile = front.initial;
    front.meter = newMeter(front.profile, Date.now(), front.meter.served);
    chain.clock.stallFinalization = false;
    return { ...describeFront(front), stallFinalization: false };
  }
  if (path === "/localnet/faults" && req.method === "POST") {
    setFaults(front, body);
    if (body.stallFinalization !== undefined) chain.clock.stallFinalization = body.stallFinalization === true;
    if (body.dropPubsub === true) controls.dropPubsub();
    return { ...describeFront(front), stallFinalization: chain.clock.stallFinalization };
  }
  return null;
}

/** The delay of one request: the profile's latency ± its jitter, uniformly. */
function delayOf(p: Profile): number {
  return Math.max(0, p.latencyMs + (p.jitterMs > 0 ? (Math.random() * 2 - 1) * p.jitterMs : 0));
}

async function rpc(chain: Chain, front: Front, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const text = await readBody(req);
  const delay = delayOf(front.profile);
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  if (front.faults.failNext > 0) {
    front.faults.failNext -= 1;
    const status = front.faults.status;
    const headers: Record<string, string> = status === 429 ? { "Retry-After": "1" } : {};
    const message =
      status === 429
        ? "Too many requests (localnet fault injection)"
        : "Internal server error (localnet fault injection)";
    return json(
      res,
      status,
      { jsonrpc: "2.0", error: { code: status === 429 ? 429 : -32603, message }, id: null },
      headers,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return json(res, 200, { jsonrpc: "2.0", error: { code: -32700, message: "Parse error" }, id: null });
  }
  const batch = Array.isArray(body);
  const items: unknown[] = Array.isArray(body) ? body : [body];
  if (batch && items.length === 0) {
    return json(res, 200, { jsonrpc: "2.0", error: { code: -32600, message: "Invalid request" }, id: null });
  }
  const now = Date.now();
  const charged = chargeItems(front.meter, items, now);
  if (charged.served === 0) {
    // Nothing fits in the budget: the whole request is refused, as a provider's gateway does.
    return json(res, 429, answerLimited(null), { "Retry-After": String(charged.retryAfterSec) });
  }
  // A load balancer sends the whole HTTP request to one node; some nodes are behind.
  const { lagNext, lagMethod } = front.faults;
  const forced = lagNext > 0 && (!lagMethod || items.some((i) => (i as { method?: unknown })?.method === lagMethod));
  if (forced) front.faults.lagNext--;
  const lagged = (forced || Math.random() < front.profile.lagShare) && front.profile.lagSlots > 0;
  if (lagged) front.meter.served.lagged++;
  const view = lagged ? laggedView(chain, front.profile.lagSlots) : chain;
  const replies: RpcReply[] = items.map((item, i) =>
    charged.limited[i] ? answerLimited(item) : limitReply(front, chain, item, handleOne(view, item)),
  );
  json(res, 200, batch ? replies : replies[0]);
}

/** Creates (but does not start) the RPC + controls HTTP server of one front. */
export function createRpcServer(chain: Chain, controls: Controls, front: Front): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const handle = async () => {
      if (req.method === "OPTIONS") {
        res.writeHead(204, CORS);
        return res.end();
      }
      if (path.startsWith("/localnet/")) {
        const out = await control(chain, controls, front, req, path);
        return out === null ? json(res, 404, { error: "unknown control endpoint" }) : json(res, 200, out);
      }
      if (req.method === "GET" && path === "/health") {
        res.writeHead(200, { ...CORS, "Content-Type": "text/plain" });
        return res.end("ok");
      }
      if (req.method !== "POST")
        return json(res, 405, { error: "Used HTTP Method is not allowed. POST or OPTIONS is required" });
      return rpc(chain, front, req, res);
    };
    handle().catch((e: unknown) => json(res, 400, { error: (e as Error).message }));
  });
}
