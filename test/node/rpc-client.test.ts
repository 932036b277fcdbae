/**
 * The Worker's JSON-RPC client (src/chain/rpc.ts — plain fetch, so it runs in Node too) against a localnet front
 * whose faults make every case deterministic: the next N requests answered by a lagging node, a budget that refuses
 * batch items, an HTTP 429. The client must come back with the node-at-the-tip answer, item by item.
 */
import { Keypair, SystemProgram, Transaction } from "@solana/web3.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Localnet } from "../../dev/localnet/index.ts";
import { startLocalnet } from "../../dev/localnet/index.ts";
import { RpcError, SolanaRpc } from "../../src/chain/rpc.ts";

let net: Localnet;

async function faults(body: Record<string, unknown> | null): Promise<void> {
  await fetch(`${net.rpcUrl}/localnet/faults`, {
    method: body ? "POST" : "DELETE",
    body: body ? JSON.stringify(body) : undefined,
  }).then((r) => r.text());
}

beforeAll(async () => {
  net = await startLocalnet({ port: 0, slotMs: 3_600_000, finalityDepth: 3, quiet: true });
  net.chain.advanceSlots(30);
});

afterEach(() => faults(null));

afterAll(async () => {
  await net?.close();
});

const client = (over: Partial<ConstructorParameters<typeof SolanaRpc>[0]> = {}) =>
  new SolanaRpc({ rpcUrls: [net.rpcUrl], ...over });

describe("transient answers are asked again", () => {
  it("a lagging node's -32016 for minContextSlot, until a node at the tip answers", async () => {
    const rpc = client();
    const tip = net.chain.clock.slotAt("confirmed");
    await faults({ lagNext: 2, lagSlots: 5 });
    const result = await rpc.call<{ context: { slot: number } }>("getMultipleAccounts", [
      [Keypair.generate().publicKey.toBase58()],
      { commitment: "confirmed", minContextSlot: tip },
    ]);
    expect(result.context.slot).toBeGreaterThanOrEqual(tip);
    expect([rpc.requests, rpc.retried]).toEqual([3, 2]);
  });

  it("BlockhashNotFound when simulating a blockhash the lagging node has not seen yet", async () => {
    const payer = Keypair.generate();
    await net.fund(payer.publicKey, { lamports: 1_000_000_000n });
    const { blockhash } = net.chain.clock.latestBlockhash("processed");
    const tx = new Transaction({ feePayer: payer.publicKey, blockhash, lastValidBlockHeight: 1e9 }).add(
      SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: payer.publicKey, lamports: 1 }),
    );
    tx.sign(payer);
    const rpc = client();
    await faults({ lagNext: 2, lagSlots: 5 });
    const { value } = await rpc.call<{ value: { err: unknown } }>("simulateTransaction", [
      tx.serialize().toString("base64"),
      { encoding: "base64", sigVerify: true },
    ]);
    expect(value.err).toBeNull();
    expect(rpc.retried).toBe(2);
  });

  it("gives up after six attempts and reports the node's error", async () => {
    const rpc = client();
    await faults({ lagNext: 6, lagSlots: 5 });
    const error = await rpc
      .call("getSlot", [{ commitment: "confirmed", minContextSlot: net.chain.clock.slotAt("confirmed") }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).code).toBe(-32016);
    expect(rpc.requests).toBe(6);
  });

  it("a non-transient JSON-RPC error is final at once", async () => {
    const rpc = client();
    await expect(rpc.call("getBalance", ["not-a-key"])).rejects.toMatchObject({ code: -32602 });
    expect([rpc.requests, rpc.retried]).toEqual([1, 0]);
  });
});

describe("budgets and batches", () => {
  it("batch items refused with a per-item 429 are sent again on their own; every item comes back, in order", async () => {
    const rpc = client();
    await faults({ requestsPerSecond: 5 });
    const calls = Array.from({ length: 12 }, (_, i) => ({ method: i % 2 ? "getSlot" : "getBlockHeight", params: [] }));
    const replies = await rpc.batch(calls);
    expect(replies.every((r) => r.ok && typeof r.value === "number")).toBe(true);
    expect(rpc.rateLimited).toBeGreaterThanOrEqual(7);
    expect(rpc.requests).toBeGreaterThan(1);
    // Every item sent is counted under its method, retries included (what a provider bills).
    expect(rpc.byMethod.getSlot!.items + rpc.byMethod.getBlockHeight!.items).toBe(rpc.items);
    expect(rpc.byMethod.getSlot!.rateLimited + rpc.byMethod.getBlockHeight!.rateLimited).toBe(rpc.rateLimited);
  });

  it("an HTTP 429 is waited out (Retry-After) and counted", async () => {
    const rpc = client();
    await faults({ failNext: 1, status: 429 });
    expect(await rpc.call<number>("getSlot")).toBeGreaterThan(0);
    expect(rpc.byMethod.getSlot).toEqual({ requests: 2, items: 2, rateLimited: 1 });
  });

  it("splits batches by the configured size, fewer when a second's budget above the reserve is smaller", async () => {
    const calls = Array.from({ length: 25 }, () => ({ method: "getSlot", params: [] }));
    const sized = client({ rpcBatchSize: 10 });
    await sized.batch(calls);
    expect([sized.batchSize, sized.requests, sized.items]).toEqual([10, 3, 25]);
    const budgeted = client({
      rpcBatchSize: 100,
      rpcBudget: { requestsPerSecond: 0, itemsPerSecond: 20, sendPerSecond: 0, gpaPerSecond: 0, reservePercent: 50 },
    });
    expect(budgeted.batchSize).toBe(10);
  });
});
