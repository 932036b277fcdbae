import { DurableObject } from "cloudflare:workers";
import type { BudgetRule } from "../config.ts";
import type { Bindings } from "../env.ts";
import { BudgetGate, BudgetQueue, type BudgetStats, type RpcCost } from "./budget-gate.ts";
import type { BudgetLink } from "./rpc.ts";

/**
 * One Durable Object per RPC provider (named by its URL): the budget every invocation shares — requests, alarms
 * and cron runs, in every isolate. Ingestion and background work call `acquire` before each HTTP request and wait
 * here, served by priority; user builds and relays never wait: they `spend` afterwards, in one call per invocation
 * made after the response (waitUntil), so a build pays no extra round trip. The buckets live in memory: if the
 * object is evicted (idle) it restarts with full buckets, which is at most one second's burst.
 */
export class RpcBudget extends DurableObject<Bindings> {
  private queue: BudgetQueue | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  private queueFor(rule: BudgetRule): BudgetQueue {
    const now = Date.now();
    if (!this.queue) this.queue = new BudgetQueue(new BudgetGate(rule, now));
    else this.queue.gate.update(rule, now);
    return this.queue;
  }

  /** Resolves once `cost` is granted to a caller of this priority; the milliseconds it waited. */
  acquire(rule: BudgetRule, priority: "ingest" | "background", cost: RpcCost): Promise<number> {
    const queue = this.queueFor(rule);
    return new Promise<number>((resolve) => {
      queue.enqueue(priority, cost, Date.now(), resolve);
      this.pump();
    });
  }

  /** Records what user requests already spent (they are never held back). */
  spend(rule: BudgetRule, cost: RpcCost): void {
    this.queueFor(rule).spend(cost, Date.now());
    this.pump();
  }

  /** Figures since the object started (benchmarks, tests). */
  stats(): BudgetStats {
    return this.queue ? { ...this.queue.stats } : emptyStats();
  }

  /** Grants what fits now and sleeps until the next caller can be served. */
  private pump(): void {
    if (!this.queue) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const next = this.queue.pump(Date.now());
    if (next !== null) this.timer = setTimeout(() => this.pump(), next);
  }
}

function emptyStats(): BudgetStats {
  return {
    granted: { ingest: 0, background: 0 },
    waitedMs: { ingest: 0, background: 0 },
    userRequests: 0,
    userItems: 0,
    waiting: 0,
  };
}

/** The budget object of one provider endpoint. */
export function rpcBudget(env: Bindings, url: string): DurableObjectStub<RpcBudget> {
  return env.RPC_BUDGET.get(env.RPC_BUDGET.idFromName(url));
}

/** The client's view of the budget objects: one per provider URL, all under the same configured rule. */
export function budgetLink(env: Bindings, rule: BudgetRule): BudgetLink {
  return {
    async acquire(url, priority, cost) {
      await rpcBudget(env, url).acquire(rule, priority, cost);
    },
    async spend(url, cost) {
      await rpcBudget(env, url).spend(rule, cost);
    },
  };
}
