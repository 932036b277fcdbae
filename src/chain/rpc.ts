import type { BudgetRule, Config } from "../config.ts";
import { chunks } from "../lib/chunks.ts";
import { costOf, maxBatchItems, meters, type RpcCost, type RpcPriority } from "./budget-gate.ts";
import { backoffMs, isRateLimitCode, isTransientCode, isTransientResult, retryAfterMs } from "./rpc-retry.ts";

export type { RpcPriority } from "./budget-gate.ts";

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

export type BatchReply = { ok: true; value: unknown } | { ok: false; error: RpcError };

/** The shared per-provider budget, as the client sees it (the RpcBudget Durable Object behind it). */
export interface BudgetLink {
  /** Resolves when the provider's budget grants `cost` to this priority (after waiting behind higher ones). */
  acquire(url: string, priority: "ingest" | "background", cost: RpcCost): Promise<void>;
  /** Reports what user requests already spent on this provider. */
  spend(url: string, cost: RpcCost): Promise<void>;
}

/** Per-method figures: HTTP requests that carried the method, its JSON-RPC items, and those refused with a 429. */
export interface MethodFigures {
  requests: number;
  items: number;
  rateLimited: number;
}

export type RpcClientConfig = Pick<Config, "rpcUrls"> &
  Partial<Pick<Config, "rpcMaxConcurrency" | "rpcBatchSize" | "rpcBudget">>;

type RpcReply = { id?: number; result?: unknown; error?: { code: number; message: string; data?: unknown } };
type Outcome = { ok: true; replies: RpcReply[] } | { ok: false; status: number; retryAfter: string | null };

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
/** Attempts per endpoint after a transport failure or 5xx, before the next endpoint is tried. */
const ATTEMPTS_PER_ENDPOINT = 2;
/** Attempts per endpoint after HTTP 429: the budget refills within a second, the endpoint is not down. */
const RATE_LIMITED_ATTEMPTS = 4;
/** Attempts of one JSON-RPC call that keeps getting a transient answer (lagging node, per-item 429). */
const TRANSIENT_ATTEMPTS = 6;
const NO_BUDGET: BudgetRule = {
  requestsPerSecond: 0,
  itemsPerSecond: 0,
  sendPerSecond: 0,
  gpaPerSecond: 0,
  reservePercent: 0,
};

/**
 * JSON-RPC client over the configured endpoints (failover in order).
 * - Transport failures, timeouts and 5xx are retried once per endpoint after a jittered backoff, then the next
 *   endpoint is tried; HTTP 429 is retried up to four times honouring Retry-After.
 * - Transient JSON-RPC answers (a lagging node's -32016/-32004/-32005/-32014, per-item 429s, BlockhashNotFound when
 *   simulating) are asked again with backoff, item by item; other JSON-RPC errors are final.
 * - Batches are split into HTTP requests of at most `rpcBatchSize` items (fewer when the budget is smaller).
 * - With a budget link, each HTTP request of an ingestion or background caller first takes its cost from the
 *   provider's shared budget; a user caller spends without waiting and reports at `flush()`.
 */
export class SolanaRpc {
  readonly urls: string[];
  /** HTTP requests sent (every attempt), for figures in jobs and benchmarks. */
  requests = 0;
  /** JSON-RPC items sent (every batch item counts, as providers count them). */
  items = 0;
  /** Items refused for the budget (all items of an HTTP 429, or a per-item 429). */
  rateLimited = 0;
  /** Transient answers asked again. */
  retried = 0;
  /** Round trips to the shared budget before a request, and the time spent waiting in them. */
  budgetCalls = 0;
  budgetWaitMs = 0;
  /** Per JSON-RPC method: HTTP requests, items and 429s (for /metrics). */
  readonly byMethod: Record<string, MethodFigures> = {};
  /** Most requests that were in flight at once (never above `maxConcurrency`). */
  maxInFlight = 0;
  readonly maxConcurrency: number;
  /** Items per HTTP batch request. */
  readonly batchSize: number;
  /** The class of this invocation's calls; a job runner may change it between jobs. */
  priority: RpcPriority;
  private readonly rule: BudgetRule;
  private readonly budget: BudgetLink | null;
  private readonly unreported = new Map<string, RpcCost>();
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(config: RpcClientConfig, opts: { budget?: BudgetLink | null; priority?: RpcPriority } = {}) {
    this.urls = config.rpcUrls;
    this.maxConcurrency = config.rpcMaxConcurrency ?? 4;
    this.rule = config.rpcBudget ?? NO_BUDGET;
    this.budget = opts.budget && meters(this.rule) ? opts.budget : null;
    this.batchSize = maxBatchItems(this.rule, config.rpcBatchSize ?? 100);
    this.priority = opts.priority ?? "user";
  }

  /** Calls one method. */
  async call<T>(method: string, params: unknown[] = [], opts: RpcCallOptions = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const [reply] = await this.post([{ method, params }], false, opts);
      const last = attempt >= TRANSIENT_ATTEMPTS;
      if (reply?.error) {
        if (last || !isTransientCode(reply.error.code)) throw toError(reply);
        await this.pause(attempt, isRateLimitCode(reply.error.code));
        continue;
      }
      if (!last && isTransientResult(method, params, reply?.result)) {
        await this.pause(attempt, false);
        continue;
      }
      return reply?.result as T;
    }
  }

  /**
   * Sends several calls as JSON-RPC batches (split by `batchSize`, the parts in parallel within the concurrency
   * bound); results come back in call order. Items with a transient answer are sent again on their own.
   */
  async batch(calls: RpcRequest[], opts: RpcCallOptions = {}): Promise<BatchReply[]> {
    const out: BatchReply[] = new Array(calls.length);
    let pending = calls.map((_, i) => i);
    for (let attempt = 1; pending.length > 0; attempt++) {
      const last = attempt >= TRANSIENT_ATTEMPTS;
      const parts = chunks(pending, this.batchSize);
      const answered = await Promise.all(
        parts.map((part) =>
          this.post(
            part.map((i) => calls[i]!),
            true,
            opts,
          ),
        ),
      );
      const again: number[] = [];
      let rateLimited = false;
      parts.forEach((part, p) => {
        part.forEach((index, j) => {
          const reply = answered[p]![j]!;
          const call = calls[index]!;
          if (reply.error) {
            if (!last && isTransientCode(reply.error.code)) {
              rateLimited ||= isRateLimitCode(reply.error.code);
              again.push(index);
            } else out[index] = { ok: false, error: toError(reply) };
          } else if (!last && isTransientResult(call.method, call.params, reply.result)) again.push(index);
          else out[index] = { ok: true, value: reply.result };
        });
      });
      pending = again;
      if (pending.length > 0) await this.pause(attempt, rateLimited);
    }
    return out;
  }

  /** Reports what user calls spent to the shared budget (called when the invocation ends). */
  async flush(): Promise<void> {
    if (!this.budget || this.unreported.size === 0) return;
    const spent = [...this.unreported];
    this.unreported.clear();
    await Promise.all(spent.map(([url, cost]) => this.budget!.spend(url, cost).catch(() => {})));
  }

  private async pause(attempt: number, rateLimited: boolean): Promise<void> {
    this.retried++;
    await sleep(backoffMs(attempt, { rateLimited }));
  }

  /** One exchange with failover; the replies in call order (a missing reply becomes an error item). */
  private async post(calls: RpcRequest[], asBatch: boolean, opts: RpcCallOptions): Promise<RpcReply[]> {
    const body = asBatch
      ? calls.map((c, id) => ({ jsonrpc: "2.0", id, method: c.method, params: c.params }))
      : { jsonrpc: "2.0", id: 0, method: calls[0]!.method, params: calls[0]!.params };
    const text = JSON.stringify(body);
    const methods = calls.map((c) => c.method);
    const cost = costOf(methods);
    let lastProblem = "no endpoint configured";
    for (const url of this.urls) {
      for (let attempt = 1; ; attempt++) {
        let wait = 0;
        let retry = false;
        try {
          await this.takeBudget(url, cost);
          const outcome = await this.limited(() => this.send(url, text, methods, opts));
          if (outcome.ok) return matchReplies(outcome.replies, calls.length);
          lastProblem = `HTTP ${outcome.status}`;
          const limited = outcome.status === 429;
          if (limited) this.countRateLimited(methods);
          retry =
            RETRYABLE_STATUS.has(outcome.status) && attempt < (limited ? RATE_LIMITED_ATTEMPTS : ATTEMPTS_PER_ENDPOINT);
          wait = backoffMs(attempt, {
            rateLimited: limited,
            retryAfterMs: retryAfterMs(outcome.retryAfter, this.priority === "user" ? 2_000 : 10_000),
          });
        } catch (err) {
          lastProblem = err instanceof Error ? `${err.name}: ${err.message}` : "request failed";
          retry = attempt < ATTEMPTS_PER_ENDPOINT;
          wait = backoffMs(attempt);
        }
        if (!retry) break;
        await sleep(wait);
      }
    }
    throw new RpcUnavailableError(`Solana RPC unavailable (${lastProblem})`);
  }

  /** One HTTP request, counted per method; a non-2xx answer is returned, not thrown. */
  private async send(url: string, text: string, methods: string[], opts: RpcCallOptions): Promise<Outcome> {
    this.count(methods);
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: text,
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return { ok: false, status: res.status, retryAfter: res.headers.get("retry-after") };
    }
    const parsed = (await res.json()) as RpcReply | RpcReply[];
    const replies = Array.isArray(parsed) ? parsed : [parsed];
    for (const [i, r] of replies.entries()) {
      if (r.error && isRateLimitCode(r.error.code)) this.countRateLimited([methods[r.id ?? i] ?? "?"]);
    }
    return { ok: true, replies };
  }

  /** Background callers wait for the shared budget; a broken budget object never stops the work (fails open). */
  private async takeBudget(url: string, cost: RpcCost): Promise<void> {
    if (!this.budget) return;
    if (this.priority === "user") {
      const sum = this.unreported.get(url) ?? { requests: 0, items: 0, sends: 0, gpas: 0 };
      for (const k of Object.keys(sum) as (keyof RpcCost)[]) sum[k] += cost[k];
      this.unreported.set(url, sum);
      return;
    }
    const started = Date.now();
    this.budgetCalls++;
    try {
      await this.budget.acquire(url, this.priority, cost);
    } catch {
      // The provider's own 429s still protect the budget.
    }
    this.budgetWaitMs += Date.now() - started;
  }

  private count(methods: string[]): void {
    this.requests++;
    this.items += methods.length;
    for (const m of new Set(methods)) this.figuresOf(m).requests++;
    for (const m of methods) this.figuresOf(m).items++;
  }

  private countRateLimited(methods: string[]): void {
    this.rateLimited += methods.length;
    for (const m of methods) this.figuresOf(m).rateLimited++;
  }

  private figuresOf(method: string): MethodFigures {
    this.byMethod[method] ??= { requests: 0, items: 0, rateLimited: 0 };
    return this.byMethod[method];
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

/** Replies in call order, matched by id; a reply the node left out becomes an error item. */
function matchReplies(replies: RpcReply[], count: number): RpcReply[] {
  if (count === 1 && replies.length === 1) return replies;
  const byId = new Map(replies.map((r) => [r.id, r]));
  // A batch refused as a whole (one error object without an id) applies to every item.
  const whole = replies.length === 1 && replies[0]!.error && replies[0]!.id == null ? replies[0] : null;
  return Array.from(
    { length: count },
    (_, id) => byId.get(id) ?? whole ?? { id, error: { code: -32603, message: "missing reply in batch" } },
  );
}

function toError(reply: RpcReply): RpcError {
  return new RpcError(reply.error!.code, reply.error!.message, reply.error!.data);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
