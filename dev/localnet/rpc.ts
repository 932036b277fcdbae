/** JSON-RPC 2.0 dispatch (single requests and batches) over the localnet's methods. */
import type { Chain } from "./engine.ts";
import { accountMethods } from "./rpc-accounts.ts";
import { txMethods } from "./rpc-tx.ts";
import type { Method } from "./rpc-util.ts";
import { RpcError } from "./rpc-util.ts";
import { FrontError } from "./wire.ts";

const methods: Record<string, Method> = { ...accountMethods, ...txMethods };

type Id = string | number | null;

function errorResponse(id: Id, code: number, message: string, data?: unknown): Record<string, unknown> {
  const error: Record<string, unknown> = { code, message };
  if (data !== undefined) error.data = data;
  return { jsonrpc: "2.0", error, id };
}

function handleOne(chain: Chain, req: unknown): Record<string, unknown> {
  if (!req || typeof req !== "object" || Array.isArray(req)) return errorResponse(null, -32600, "Invalid request");
  const { jsonrpc, method, params, id } = req as Record<string, unknown>;
  const rid: Id = typeof id === "string" || typeof id === "number" ? id : null;
  if (jsonrpc !== "2.0" || typeof method !== "string") return errorResponse(rid, -32600, "Invalid request");
  const fn = Object.hasOwn(methods, method) ? methods[method] : undefined;
  if (!fn) return errorResponse(rid, -32601, "Method not found");
  if (params !== undefined && params !== null && !Array.isArray(params)) {
    return errorResponse(rid, -32602, "Invalid params: expected an array");
  }
  try {
    return { jsonrpc: "2.0", result: fn(chain, (params as unknown[] | undefined) ?? []), id: rid };
  } catch (e) {
    if (e instanceof RpcError) return errorResponse(rid, e.code, e.message, e.data);
    if (e instanceof FrontError) return errorResponse(rid, e.code, e.message);
    return errorResponse(rid, -32603, `Internal error: ${(e as Error).message}`);
  }
}

/** Answers a parsed JSON-RPC body: an object for a single request, an array for a batch. */
export function handleRpc(chain: Chain, body: unknown): unknown {
  if (Array.isArray(body)) {
    if (body.length === 0) return errorResponse(null, -32600, "Invalid request");
    return body.map((req) => handleOne(chain, req));
  }
  return handleOne(chain, body);
}

/** Names of the supported methods (for /localnet/info). */
export const supportedMethods = Object.keys(methods);
