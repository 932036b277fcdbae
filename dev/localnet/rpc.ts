/** JSON-RPC 2.0 dispatch (single requests and batches) over the localnet's methods. */
import type { Chain } from "./engine.ts";
import { accountMethods } from "./rpc-accounts.ts";
import { txMethods } from "./rpc-tx.ts";
import type { Method } from "./rpc-util.ts";
import { commitmentOf, RpcError } from "./rpc-util.ts";
import { FrontError } from "./wire.ts";

const methods: Record<string, Method> = { ...accountMethods, ...txMethods };

type Id = string | number | null;

/** One JSON-RPC response object. */
export type RpcReply = {
  jsonrpc: "2.0";
  id: Id;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
};

function errorResponse(id: Id, code: number, message: string, data?: unknown): RpcReply {
  const error: RpcReply["error"] = { code, message };
  if (data !== undefined) error.data = data;
  return { jsonrpc: "2.0", error, id };
}

/** The config object of a call that names `minContextSlot`, if any (its position differs by method). */
function minContextConfig(params: unknown[]): Record<string, unknown> | null {
  for (const p of params) {
    if (
      p &&
      typeof p === "object" &&
      !Array.isArray(p) &&
      typeof (p as { minContextSlot?: unknown }).minContextSlot === "number"
    ) {
      return p as Record<string, unknown>;
    }
  }
  return null;
}

/** Answers one JSON-RPC request object. */
export function handleOne(chain: Chain, req: unknown): RpcReply {
  if (!req || typeof req !== "object" || Array.isArray(req)) return errorResponse(null, -32600, "Invalid request");
  const { jsonrpc, method, params, id } = req as Record<string, unknown>;
  const rid: Id = typeof id === "string" || typeof id === "number" ? id : null;
  if (jsonrpc !== "2.0" || typeof method !== "string") return errorResponse(rid, -32600, "Invalid request");
  const fn = Object.hasOwn(methods, method) ? methods[method] : undefined;
  if (!fn) return errorResponse(rid, -32601, "Method not found");
  if (params !== undefined && params !== null && !Array.isArray(params)) {
    return errorResponse(rid, -32602, "Invalid params: expected an array");
  }
  const list = (params as unknown[] | undefined) ?? [];
  // As a node does: a caller that has already seen slot N refuses an answer from a bank older than N.
  const min = minContextConfig(list);
  if (min) {
    const contextSlot = chain.clock.slotAt(commitmentOf(min));
    if ((min.minContextSlot as number) > contextSlot) {
      return errorResponse(rid, -32016, "Minimum context slot has not been reached", { contextSlot });
    }
  }
  try {
    return { jsonrpc: "2.0", result: fn(chain, list), id: rid };
  } catch (e) {
    if (e instanceof RpcError) return errorResponse(rid, e.code, e.message, e.data);
    if (e instanceof FrontError) return errorResponse(rid, e.code, e.message);
    return errorResponse(rid, -32603, `Internal error: ${(e as Error).message}`);
  }
}
