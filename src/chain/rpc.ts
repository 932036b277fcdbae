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

export interface RpcRequest {
  method: string;
  params: unknown[];
}

type RpcReply = { id?: number; result?: unknown; error?: { code: number; message: string; data?: unknown } };

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
const ATTEMPTS_PER_ENDPOINT = 2;

/**
 * JSON-RPC client over the configured endpoints: a transport failure, timeout, 429 or 5xx is retried once on the
 * same endpoint after a jittered backoff (honouring Retry-After up to 2 s), then the next endpoint is tried.
 * Answers with a JSON-RPC error are final: another node would say the same.
 */
export class SolanaRpc {
  readonly urls: string[];
  /** HTTP requests sent, for figures in jobs and benchmarks. */
  requests = 0;
  /**
   * Per JSON-RPC method: HTTP requests (a batch counts once for each method in it), JSON-RPC items, and 429 answers
   * received. Kept as a public field of this shape: /metrics reads it (monitor/metrics).
   */
  readonly byMethod: Record<string, { requests: number; items: number; rateLimited: number }> = {};
  /** Most requests that were in flight at once (never above `maxConcurrency`). */
  maxInFlight = 0;
  readonly maxConcurrency: number;
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(config: Pick<Config, "rpcUrls"> & Partial<Pick<Config, "rpcMaxConcurrency">>) {
    this.urls = config.rpcUrls;
    this.maxConcurrency = config.rpcMaxConcurrency ?? 4;
  }

  /** Calls one method. */
  async call<T>(method: string, params: unknown[] = [], opts: RpcCallOptions = {}): Promise<T> {
    const reply = (await this.post({ jsonrpc: "2.0", id: 1, method, params }, opts)) as RpcReply;
    return unwrap<T>(reply);
  }

  /** Sends several calls in one HTTP request (JSON-RPC batch); results come back in request order. */
  async batch(
    calls: RpcRequest[],
    opts: RpcCallOptions = {},
  ): Promise<Array<{ ok: true; value: unknown } | { ok: false; error: RpcError }>> {
    if (calls.length === 0) return [];
    const body = calls.map((c, id) => ({ jsonrpc: "2.0", id, method: c.method, params: c.params }));
    const replies = (await this.post(body, opts)) as RpcReply[];
    if (!Array.isArray(replies)) throw new RpcUnavailableError("Solana RPC answered a batch with a non-array");
    const byId = new Map(replies.map((r) => [r.id, r]));
    return calls.map((_, id) => {
      const reply = byId.get(id);
      if (!reply) return { ok: false, error: new RpcError(-32603, "missing reply in batch") };
      try {
        return { ok: true, value: unwrap(reply) };
      } catch (err) {
        return { ok: false, error: err as RpcError };
      }
    });
  }

  private async post(body: unknown, opts: RpcCallOptions): Promise<unknown> {
    let lastProblem = "no endpoint configured";
    for (const url of this.urls) {
      for (let attempt = 1; attempt <= ATTEMPTS_PER_ENDPOINT; attempt++) {
        let retryAfterMs = 0;
        try {
          const outcome = await this.limited(async () => {
            this.requests++;
            const counts = this.countRequest(body);
            const res = await fetch(url, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify(body),
              signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
            });
            if (res.ok) return { ok: true as const, value: (await res.json()) as unknown };
            if (res.status === 429) for (const c of counts) c.rateLimited++;
            await res.body?.cancel();
            return { ok: false as const, status: res.status, retryAfter: res.headers.get("retry-after") };
          });
          if (outcome.ok) return outcome.value;
          lastProblem = `HTTP ${outcome.status}`;
          if (!RETRYABLE_STATUS.has(outcome.status)) break;
          retryAfterMs = Math.min(Number(outcome.retryAfter ?? 0) * 1000, 2_000) || 0;
        } catch (err) {
          lastProblem = err instanceof Error ? `${err.name}: ${err.message}` : "request failed";
        }
        if (attempt < ATTEMPTS_PER_ENDPOINT) await sleep(Math.max(retryAfterMs, backoff(attempt)));
      }
    }
    throw new RpcUnavailableError(`Solana RPC unavailable (${lastProblem})`);
  }

  /** Counts one HTTP request and its items per method; returns the methods' counters (for a 429). */
  private countRequest(body: unknown): Array<{ requests: number; items: number; rateLimited: number }> {
    const items = (Array.isArray(body) ? body : [body]) as { method: string }[];
    const touched = new Set<{ requests: number; items: number; rateLimited: number }>();
    for (const { method } of items) {
      this.byMethod[method] ??= { requests: 0, items: 0, rateLimited: 0 };
      const c = this.byMethod[method];
      c.items++;
      touched.add(c);
    }
    for (const c of touched) c.requests++;
    return [...touched];
  }

  /** Runs one HTTP exchange within the concurrency bound (FIFO; backoff sleeps hold no slot). */
  private async limited<T>(work: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.maxConcurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      return await work();
    } finally {
      this.inFlight--;
      this.waiting.shift()?.();
    }
  }
}

function unwrap<T>(reply: RpcReply): T {
  if (reply.error) throw new RpcError(reply.error.code, reply.error.message, reply.error.data);
  return reply.result as T;
}

/** Exponential backoff with full jitter: 0..(100 ms × 2^(attempt−1)). */
function backoff(attempt: number): number {
  return Math.random() * 100 * 2 ** (attempt - 1);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
