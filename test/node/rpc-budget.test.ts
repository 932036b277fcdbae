/**
 * The pure pieces of the RPC budget and retries: token buckets per metered dimension, the reserve left for user
 * calls, priority ordering of waiting callers, batch sizing, and which answers count as transient. The clock is
 * passed in: nothing here waits.
 */
import { describe, expect, it } from "vitest";
import { BudgetGate, BudgetQueue, costOf, maxBatchItems, meters } from "../../src/chain/budget-gate.ts";
import {
  backoffMs,
  isRateLimitCode,
  isTransientCode,
  isTransientResult,
  retryAfterMs,
} from "../../src/chain/rpc-retry.ts";
import type { BudgetRule } from "../../src/config.ts";

const rule = (over: Partial<BudgetRule> = {}): BudgetRule => ({
  requestsPerSecond: 0,
  itemsPerSecond: 50,
  sendPerSecond: 0,
  gpaPerSecond: 0,
  reservePercent: 20,
  ...over,
});

const items = (n: number) => costOf(Array.from({ length: n }, () => "getTransaction"));

describe("the budget gate", () => {
  it("lets background work take tokens only above the reserve kept for user calls", () => {
    const gate = new BudgetGate(rule(), 0);
    expect(gate.tryTake(items(40), 0)).toBe(true);
    // 10 tokens left = the 20 % reserve: a background caller must wait, however small its cost.
    expect(gate.tryTake(items(1), 0)).toBe(false);
    // 200 ms later 10 more tokens are back: 10 can be taken above the reserve.
    expect(gate.waitMs(items(10), 0)).toBe(200);
    expect(gate.tryTake(items(10), 200)).toBe(true);
  });

  it("counts every item of a batch, and sendTransaction and getProgramAccounts against their own buckets", () => {
    const cost = costOf(["sendTransaction", "getSlot", "getProgramAccounts", "sendTransaction"]);
    expect(cost).toEqual({ requests: 1, items: 4, sends: 2, gpas: 1 });
    const gate = new BudgetGate(rule({ itemsPerSecond: 100, sendPerSecond: 5, reservePercent: 0 }), 0);
    expect(gate.tryTake(costOf(["sendTransaction", "sendTransaction", "sendTransaction"]), 0)).toBe(true);
    expect(gate.tryTake(costOf(["sendTransaction", "sendTransaction", "sendTransaction"]), 0)).toBe(false);
    expect(gate.tryTake(costOf(["getSlot"]), 0)).toBe(true);
  });

  it("lets user spends go below zero, so background work waits until they are paid back", () => {
    const gate = new BudgetGate(rule(), 0);
    gate.spend(items(70), 0);
    // -20 tokens: 30 short of the 10-token reserve plus one item.
    expect(gate.tryTake(items(1), 0)).toBe(false);
    expect(gate.waitMs(items(1), 0)).toBe(620);
    expect(gate.tryTake(items(1), 620)).toBe(true);
  });

  it("grants a cost larger than one second's usable budget once the bucket is full, instead of never", () => {
    const gate = new BudgetGate(rule({ itemsPerSecond: 10 }), 0);
    expect(gate.tryTake(items(25), 0)).toBe(true);
    expect(gate.tryTake(items(25), 1_000)).toBe(false);
    expect(gate.tryTake(items(25), 2_500)).toBe(true);
  });

  it("starts over when the configured rule changes (a deploy with another plan)", () => {
    const gate = new BudgetGate(rule(), 0);
    expect(gate.tryTake(items(40), 0)).toBe(true);
    gate.update(rule({ itemsPerSecond: 200 }), 0);
    expect(gate.tryTake(items(100), 0)).toBe(true);
  });

  it("meters nothing when every rate is 0", () => {
    expect(meters(rule({ itemsPerSecond: 0 }))).toBe(false);
    expect(meters(rule())).toBe(true);
  });

  it("sizes batches to what a background caller can be granted", () => {
    expect(maxBatchItems(rule(), 100)).toBe(40);
    expect(maxBatchItems(rule({ itemsPerSecond: 500 }), 100)).toBe(100);
    expect(maxBatchItems(rule({ itemsPerSecond: 0 }), 100)).toBe(100);
    expect(maxBatchItems(rule({ itemsPerSecond: 1, reservePercent: 90 }), 100)).toBe(1);
  });
});

describe("the priority queue", () => {
  it("serves live ingestion before backfill and reconciliation, first come first served within a class", () => {
    const queue = new BudgetQueue(new BudgetGate(rule({ itemsPerSecond: 10, reservePercent: 0 }), 0));
    expect(queue.gate.tryTake(items(10), 0)).toBe(true);
    const order: string[] = [];
    queue.enqueue("background", items(5), 0, () => order.push("reconcile-1"));
    queue.enqueue("background", items(5), 0, () => order.push("reconcile-2"));
    queue.enqueue("ingest", items(5), 10, () => order.push("ingest-1"));
    queue.enqueue("ingest", items(5), 20, () => order.push("ingest-2"));
    expect(queue.pump(0)).toBe(500);
    expect(order).toEqual([]);
    expect(queue.pump(500)).toBe(500);
    expect(order).toEqual(["ingest-1"]);
    queue.pump(1_000);
    queue.pump(1_500);
    expect(queue.pump(2_000)).toBeNull();
    expect(order).toEqual(["ingest-1", "ingest-2", "reconcile-1", "reconcile-2"]);
    expect(queue.stats.granted).toEqual({ ingest: 2, background: 2 });
  });

  it("holds background work while ingestion waits, even when the background cost would fit", () => {
    const queue = new BudgetQueue(new BudgetGate(rule({ itemsPerSecond: 10, reservePercent: 0 }), 0));
    queue.gate.tryTake(items(8), 0);
    const order: string[] = [];
    queue.enqueue("ingest", items(5), 0, () => order.push("ingest"));
    queue.enqueue("background", items(1), 0, () => order.push("background"));
    // 2 tokens would cover the background call, but ingestion is ahead of it.
    queue.pump(0);
    expect(order).toEqual([]);
    queue.pump(300);
    expect(order).toEqual(["ingest"]);
    queue.pump(400);
    expect(order).toEqual(["ingest", "background"]);
  });

  it("counts what user calls reported spending", () => {
    const queue = new BudgetQueue(new BudgetGate(rule(), 0));
    queue.spend(items(3), 0);
    queue.spend(costOf(["getLatestBlockhash"]), 0);
    expect(queue.stats).toMatchObject({ userRequests: 2, userItems: 4 });
  });
});

describe("retry classification", () => {
  it("treats a lagging node's and a per-item rate limit's answers as transient, others as final", () => {
    for (const code of [-32016, -32004, -32005, -32014, 429, -32429]) expect(isTransientCode(code)).toBe(true);
    for (const code of [-32602, -32601, -32002, -32003, -32603, -32009]) expect(isTransientCode(code)).toBe(false);
    expect(isRateLimitCode(429)).toBe(true);
    expect(isRateLimitCode(-32016)).toBe(false);
  });

  it("treats BlockhashNotFound as transient only when the simulation checks the transaction's own blockhash", () => {
    const notFound = { context: { slot: 1 }, value: { err: "BlockhashNotFound", logs: [] } };
    expect(isTransientResult("simulateTransaction", ["tx", { sigVerify: true }], notFound)).toBe(true);
    expect(isTransientResult("simulateTransaction", ["tx", { replaceRecentBlockhash: true }], notFound)).toBe(false);
    const failed = { context: { slot: 1 }, value: { err: { InstructionError: [0, { Custom: 1 }] } } };
    expect(isTransientResult("simulateTransaction", ["tx", {}], failed)).toBe(false);
    expect(isTransientResult("getTransaction", ["sig", {}], null)).toBe(false);
  });

  it("backs off exponentially with jitter, never less than Retry-After, and reads Retry-After safely", () => {
    for (let attempt = 1; attempt <= 8; attempt++) {
      const ms = backoffMs(attempt);
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThanOrEqual(Math.min(5_000, 100 * 2 ** (attempt - 1)));
    }
    for (let attempt = 1; attempt <= 4; attempt++) {
      const ms = backoffMs(attempt, { rateLimited: true });
      expect(ms).toBeGreaterThanOrEqual(125 * 2 ** (attempt - 1));
      expect(ms).toBeLessThanOrEqual(250 * 2 ** (attempt - 1));
    }
    expect(backoffMs(1, { retryAfterMs: 1_000 })).toBeGreaterThanOrEqual(1_000);
    expect(retryAfterMs("1", 10_000)).toBe(1_000);
    expect(retryAfterMs("120", 10_000)).toBe(10_000);
    expect(retryAfterMs(null, 10_000)).toBe(0);
    expect(retryAfterMs("soon", 10_000)).toBe(0);
    expect(retryAfterMs(new Date(5_000).toUTCString(), 10_000, 2_000)).toBe(3_000);
  });
});
