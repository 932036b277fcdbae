/**
 * The RpcBudget Durable Object through its typed RPC stub, as every invocation reaches it: waiting callers are
 * served by priority, and user spends hold background work back. Each test uses a budget of its own (a made-up
 * provider URL), so nothing else touches it.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { costOf } from "../../src/chain/budget-gate.ts";
import { rpcBudget } from "../../src/chain/rpc-budget.ts";
import type { BudgetRule } from "../../src/config.ts";
import type { Bindings } from "../../src/env.ts";

const rule: BudgetRule = {
  requestsPerSecond: 0,
  itemsPerSecond: 10,
  sendPerSecond: 0,
  gpaPerSecond: 0,
  reservePercent: 0,
};
const items = (n: number) => costOf(Array.from({ length: n }, () => "getTransaction"));
const freshBudget = () => rpcBudget(env as unknown as Bindings, `https://provider.test/${crypto.randomUUID()}`);

describe("the shared RPC budget object", () => {
  it("serves ingestion before background work that was waiting longer", async () => {
    const budget = freshBudget();
    await budget.acquire(rule, "background", items(10));
    const order: string[] = [];
    const background = budget.acquire(rule, "background", items(5)).then(() => order.push("reconciliation"));
    const ingest = budget.acquire(rule, "ingest", items(5)).then(() => order.push("ingestion"));
    await Promise.all([background, ingest]);
    expect(order).toEqual(["ingestion", "reconciliation"]);
    const stats = await budget.stats();
    expect(stats.granted).toEqual({ ingest: 1, background: 2 });
  });

  it("counts what user calls spent against the next background request", async () => {
    const budget = freshBudget();
    await budget.spend(rule, items(10));
    const stats = await budget.stats();
    expect([stats.userRequests, stats.userItems]).toEqual([1, 10]);
    // The bucket is empty: the background request is granted only after it refilled, never at once.
    const waited = await budget.acquire(rule, "background", items(5));
    expect(waited).toBeGreaterThan(0);
  });
});
