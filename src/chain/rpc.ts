import type { Config } from "../config.ts";

/** A JSON-RPC error answered by the node (as opposed to a transport failure). */
export class RpcError extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = "RpcError";
    this.code = code;
    this.data = data;
  }
}

/** Raised when no endpoint answered (network error, timeout, 429/5xx on every endpoint). */
export class RpcUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RpcUnavailableError";
  }
}

export interface RpcCallOptions {
  timeoutMs?: number;
}

/** Minimal JSON-RPC client over the configured endpoints, with failover in order. */
export class SolanaRpc {
  readonly urls: string[];
  constructor(config: Pick<Config, "rpcUrls">) {
    this.urls = config.rpcUrls;
  }

  /** Calls `method` on the first endpoint that answers; RPC-level errors are not retried elsewhere. */
  async call<T>(method: string, params: unknown[] = [], opts: RpcCallOptions = {}): Promise<T> {
    let lastProblem = "no endpoint configured";
    for (const url of this.urls) {
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
          signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
        });
        if (!res.ok) {
          lastProblem = `HTTP ${res.status}`;
          continue;
        }
        const body = (await res.json()) as { result?: T; error?: { code: number; message: string; data?: unknown } };
        if (body.error) throw new RpcError(body.error.code, body.error.message, body.error.data);
        return body.result as T;
      } catch (err) {
        if (err instanceof RpcError) throw err;
        lastProblem = err instanceof Error ? err.name : "request failed";
      }
    }
    throw new RpcUnavailableError(`Solana RPC unavailable (${lastProblem})`);
  }
}
