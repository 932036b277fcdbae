/**
 * The arithmetic of the shared RPC budget (no I/O; the RpcBudget Durable Object drives it). A provider meters each
 * second: HTTP requests, JSON-RPC items (every batch item counts), sendTransaction and getProgramAccounts calls. The
 * gate keeps one token bucket per metered dimension, each holding one second's worth.
 *
 * Priority, highest first: user builds and relays never wait here (they spend and report afterwards, so a build
 * costs no extra round trip); live ingestion; then backfill and reconciliation. Ingestion and background work only
 * take tokens above a reserve (a share of each second's budget), which stays for user bursts; while ingestion
 * waits, background work waits behind it.
 */
import type { BudgetRule } from "../config.ts";

/** Who is asking: the class decides the order in which waiting callers are served. */
export type RpcPriority = "user" | "ingest" | "background";

/** What one HTTP request costs. */
export interface RpcCost {
  requests: number;
  items: number;
  sends: number;
  gpas: number;
}

type Dimension = keyof RpcCost;

const RATE_OF: Record<Dimension, keyof BudgetRule> = {
  requests: "requestsPerSecond",
  items: "itemsPerSecond",
  sends: "sendPerSecond",
  gpas: "gpaPerSecond",
};

/** True when the rule meters anything at all. */
export function meters(rule: BudgetRule): boolean {
  return rule.requestsPerSecond > 0 || rule.itemsPerSecond > 0 || rule.sendPerSecond > 0 || rule.gpaPerSecond > 0;
}

/** The cost of one HTTP request carrying these methods (one entry per JSON-RPC item). */
export function costOf(methods: string[]): RpcCost {
  return {
    requests: 1,
    items: methods.length,
    sends: methods.filter((m) => m === "sendTransaction").length,
    gpas: methods.filter((m) => m === "getProgramAccounts").length,
  };
}

/** The most items one HTTP batch may carry so that a background caller can ever be granted it. */
export function maxBatchItems(rule: BudgetRule, configured: number): number {
  if (rule.itemsPerSecond <= 0) return configured;
  const usable = Math.floor(rule.itemsPerSecond * (1 - rule.reservePercent / 100));
  return Math.max(1, Math.min(configured, usable));
}

/** A token bucket holding one second's worth (`rate` tokens), refilled continuously; it may be drawn below zero. */
export class TokenBucket {
  tokens: number;
  private at: number;
  readonly rate: number;
  constructor(rate: number, now: number) {
    this.rate = rate;
    this.tokens = rate;
    this.at = now;
  }
  refill(now: number): void {
    this.tokens = Math.min(this.rate, this.tokens + (Math.max(0, now - this.at) / 1000) * this.rate);
    this.at = Math.max(this.at, now);
  }
}

/** Token buckets for the metered dimensions of one provider. */
export class BudgetGate {
  private levels = new Map<Dimension, TokenBucket>();
  private rule: BudgetRule | null = null;

  constructor(rule: BudgetRule, now: number) {
    this.update(rule, now);
  }

  /** Adopts a (possibly changed) rule: a deploy with new limits starts from full buckets. */
  update(rule: BudgetRule, now: number): void {
    if (this.rule && JSON.stringify(this.rule) === JSON.stringify(rule)) return;
    this.rule = { ...rule };
    this.levels.clear();
    for (const [dim, key] of Object.entries(RATE_OF) as [Dimension, keyof BudgetRule][]) {
      if (rule[key] > 0) this.levels.set(dim, new TokenBucket(rule[key], now));
    }
  }

  private floor(level: TokenBucket): number {
    return (level.rate * (this.rule?.reservePercent ?? 0)) / 100;
  }

  /** Tokens a background caller needs in a bucket before taking `cost` (a cost above what fits waits for a full one). */
  private needed(level: TokenBucket, cost: number): number {
    const floor = this.floor(level);
    return floor + Math.min(cost, level.rate - floor);
  }

  /** Debits what a user request spent (may go below zero: background work then waits longer). */
  spend(cost: RpcCost, now: number): void {
    for (const [dim, level] of this.levels) {
      level.refill(now);
      level.tokens -= cost[dim];
    }
  }

  /** Takes `cost` when every bucket holds it above its reserve; false (and nothing taken) otherwise. */
  tryTake(cost: RpcCost, now: number): boolean {
    for (const [dim, level] of this.levels) {
      level.refill(now);
      if (cost[dim] > 0 && level.tokens < this.needed(level, cost[dim])) return false;
    }
    for (const [dim, level] of this.levels) level.tokens -= cost[dim];
    return true;
  }

  /** Milliseconds until `tryTake(cost)` can succeed, if nobody else spends meanwhile. */
  waitMs(cost: RpcCost, now: number): number {
    let wait = 0;
    for (const [dim, level] of this.levels) {
      level.refill(now);
      if (cost[dim] === 0) continue;
      const missing = this.needed(level, cost[dim]) - level.tokens;
      if (missing > 0) wait = Math.max(wait, Math.ceil((missing / level.rate) * 1000));
    }
    return wait;
  }
}

interface Waiter {
  priority: Exclude<RpcPriority, "user">;
  cost: RpcCost;
  seq: number;
  since: number;
  grant: (waitedMs: number) => void;
}

/** Figures of a budget since its object started. */
export interface BudgetStats {
  granted: Record<"ingest" | "background", number>;
  waitedMs: Record<"ingest" | "background", number>;
  /** Requests reported afterwards by user builds and relays, and their items. */
  userRequests: number;
  userItems: number;
  waiting: number;
}

const RANK = { ingest: 0, background: 1 } as const;

/**
 * Callers waiting for the gate, served strictly by priority (ingestion before background work), first come first
 * served within a class. `pump` grants what fits and says when to look again.
 */
export class BudgetQueue {
  readonly gate: BudgetGate;
  private waiting: Waiter[] = [];
  private seq = 0;
  readonly stats: BudgetStats = {
    granted: { ingest: 0, background: 0 },
    waitedMs: { ingest: 0, background: 0 },
    userRequests: 0,
    userItems: 0,
    waiting: 0,
  };

  constructor(gate: BudgetGate) {
    this.gate = gate;
  }

  /** Queues a caller; `grant` is called (with the milliseconds it waited) once its cost is taken. */
  enqueue(priority: Waiter["priority"], cost: RpcCost, now: number, grant: Waiter["grant"]): void {
    this.waiting.push({ priority, cost, seq: this.seq++, since: now, grant });
    this.waiting.sort((a, b) => RANK[a.priority] - RANK[b.priority] || a.seq - b.seq);
    this.stats.waiting = this.waiting.length;
  }

  /** A user request's spend, reported after it was sent. */
  spend(cost: RpcCost, now: number): void {
    this.gate.spend(cost, now);
    this.stats.userRequests += cost.requests;
    this.stats.userItems += cost.items;
  }

  /** Grants waiting callers in order while they fit; returns ms until the first one left could fit, or null. */
  pump(now: number): number | null {
    while (this.waiting.length > 0) {
      const head = this.waiting[0]!;
      if (!this.gate.tryTake(head.cost, now)) {
        this.stats.waiting = this.waiting.length;
        return Math.max(1, this.gate.waitMs(head.cost, now));
      }
      this.waiting.shift();
      this.stats.granted[head.priority]++;
      this.stats.waitedMs[head.priority] += now - head.since;
      head.grant(now - head.since);
    }
    this.stats.waiting = 0;
    return null;
  }
}
