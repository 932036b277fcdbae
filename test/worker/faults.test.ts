import { env } from "cloudflare:workers";
import { eq, inArray } from "drizzle-orm";
import { describe, expect, inject, it } from "vitest";
import { lockCollateralIx, unlockCollateralIx } from "../../src/chain/program/index.ts";
import { RpcUnavailableError, SolanaRpc } from "../../src/chain/rpc.ts";
import { chainTransactions, transactions } from "../../src/db/schema.ts";
import type { Bindings } from "../../src/env.ts";
import { ingestFromCursor, ingestSignatures } from "../../src/ingest/pipeline.ts";
import { backgroundServices } from "../../src/platform/services.ts";
import { fundedWallet } from "./chain.ts";
import { jsonInit, restrictedDatabaseUrl, send } from "./hardening-support.ts";
import { confirmed, ingestPass, programId, sendDirect, walletWithVault, withDb } from "./ingest-support.ts";
import { isolatedEnv, isolatedVaultWithLocks } from "./isolated-support.ts";

const DEAD = "http://127.0.0.1:1";
const rpcUrl = () => inject("rpcUrl");

/** Sets the localnet's faults (global to the shared localnet: callers reset them in `finally`). */
async function faults(body: Record<string, unknown> | null): Promise<{ faults: { failNext: number } }> {
  const res = await fetch(`${rpcUrl()}/localnet/faults`, {
    method: body ? "POST" : "DELETE",
    headers: { "content-type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  return (await res.json()) as { faults: { failNext: number } };
}

const requestsOf = (owner: string) =>
  withDb((db) => db.select().from(transactions).where(eq(transactions.vaultOwner, owner)));

describe("RPC faults", () => {
  it("a dead first endpoint fails over to the next: reads and builds give the chain's answer, recorded once", async () => {
    const { owner } = await walletWithVault(1_500_000n);
    const failover = { SOLANA_RPC_URL: `${DEAD},${rpcUrl()}` };
    const balance = await send(failover, `/vault/balance/${owner}`);
    expect(balance.status).toBe(200);
    expect(balance.body?.data).toMatchObject({ totalBalance: 1_500_000 });
    const built = await send(failover, "/vault/withdraw", jsonInit({ userPubkey: owner, amount: 500_000 }));
    expect(built.status).toBe(200);
    const rows = await requestsOf(owner);
    expect(rows.filter((r) => r.transactionType === "withdrawal")).toHaveLength(1);

    const rpc = new SolanaRpc({ rpcUrls: [DEAD, rpcUrl()] });
    expect(await rpc.call<number>("getSlot")).toBeGreaterThan(0);
    // Two attempts on the dead endpoint (one retry after a jittered backoff), then one on the live one.
    expect(rpc.requests).toBe(3);
  });

  it("when every endpoint is down the API answers 503 UPSTREAM_UNAVAILABLE and records nothing", async () => {
    const wallet = await fundedWallet({ usdt: 1_000_000n });
    const owner = wallet.publicKey.toBase58();
    const res = await send(
      { SOLANA_RPC_URL: `${DEAD},http://127.0.0.1:2` },
      "/vault/initialize",
      jsonInit({ userPubkey: owner }),
    );
    expect(res.status).toBe(503);
    expect(res.body?.error?.code).toBe("UPSTREAM_UNAVAILABLE");
    expect(await requestsOf(owner)).toHaveLength(0);
  });

  for (const status of [429, 500] as const) {
    it(`HTTP ${status}s from the node are retried and absorbed: the build succeeds and is recorded once`, async () => {
      const { owner } = await walletWithVault(2_000_000n);
      try {
        // Two failures, two endpoints (the same node listed twice): whoever meets them, nobody sees an error.
        await faults({ failNext: 2, status });
        const res = await send(
          { SOLANA_RPC_URL: `${rpcUrl()},${rpcUrl()}` },
          "/vault/withdraw",
          jsonInit({ userPubkey: owner, amount: 1_000 }, { "idempotency-key": crypto.randomUUID() }),
        );
        expect([res.status, res.body?.error?.code]).toEqual([200, undefined]);
        expect((await faults({})).faults.failNext).toBe(0);
      } finally {
        await faults(null);
      }
      expect((await requestsOf(owner)).filter((r) => r.transactionType === "withdrawal")).toHaveLength(1);
    });
  }

  it("a node slower than the timeout is abandoned (RpcUnavailableError), and answers again once it recovers", async () => {
    const rpc = new SolanaRpc({ rpcUrls: [rpcUrl()] });
    try {
      await faults({ latencyMs: 700 });
      await expect(rpc.call("getSlot", [], { timeoutMs: 150 })).rejects.toBeInstanceOf(RpcUnavailableError);
    } finally {
      await faults(null);
    }
    expect(await rpc.call<number>("getSlot")).toBeGreaterThan(0);
  });
});

describe("RPC budget", () => {
  it("keeps at most RPC_MAX_CONCURRENCY requests in flight; the rest queue and all succeed", async () => {
    const rpc = new SolanaRpc({ rpcUrls: [rpcUrl()], rpcMaxConcurrency: 3 });
    let slots: number[];
    try {
      // A slow node makes the callers overlap, so the bound is what stops them.
      await faults({ latencyMs: 40 });
      slots = await Promise.all(Array.from({ length: 30 }, () => rpc.call<number>("getSlot")));
    } finally {
      await faults(null);
    }
    expect(slots.every((s) => s > 0)).toBe(true);
    expect(rpc.requests).toBe(30);
    expect(rpc.maxInFlight).toBe(3);
  });

  it("an ingestion pass costs RPC requests per batch of 100, not per transaction", async () => {
    // On the isolated chain with a stream of its own: no other pass takes these transactions first.
    await isolatedVaultWithLocks(150, { ordered: false });
    const services = backgroundServices(isolatedEnv(), { test: "rpc-budget" });
    let figures: Awaited<ReturnType<typeof ingestFromCursor>>;
    try {
      figures = await ingestFromCursor(isolatedEnv(), services, { stream: `rpc-budget-${crypto.randomUUID()}` });
    } finally {
      await services.close();
    }
    const { requests, maxInFlight } = services.rpc;
    const n = figures.signatures;
    expect(figures.complete).toBe(true);
    expect(n).toBeGreaterThanOrEqual(152);
    // Signature pages (1,000 each) + per 100 transactions: one getTransaction batch and the account reads.
    const budget = Math.ceil(n / 1000) + 4 * Math.ceil(n / 100) + 2;
    expect(requests).toBeLessThanOrEqual(budget);
    expect(requests).toBeLessThan(n / 10);
    expect(maxInFlight).toBeLessThanOrEqual(4);
  });
});

describe("database faults during ingestion", () => {
  it("a pass whose database refuses writes or is unreachable commits nothing partial; the next pass stores each event once", async () => {
    const { owner, vault } = await walletWithVault(1_000_000n);
    const signer = await fundedWallet();
    const sigs: string[] = [];
    for (let i = 0; i < 6; i++) {
      const ix = (i % 2 ? unlockCollateralIx : lockCollateralIx)({
        programId: programId(),
        authority: signer.publicKey,
        vault,
        amount: 1_000n + BigInt(i >> 1),
      });
      sigs.push(await sendDirect([ix], signer));
    }
    await confirmed(sigs.at(-1)!);

    for (const DATABASE_URL of [
      await restrictedDatabaseUrl("fault_readonly"),
      "postgres://postgres:x@127.0.0.1:1/none",
    ]) {
      const services = backgroundServices({ ...env, DATABASE_URL } as Bindings, { test: "faults" });
      try {
        await expect(ingestSignatures(env as Bindings, services, sigs)).rejects.toThrow();
      } finally {
        await services.close();
      }
      // Whatever other passes did meanwhile: a signature is stored with all its rows, or not at all.
      await expectAllOrNothing(owner, sigs);
    }

    await ingestPass();
    await ingestPass();
    const stored = await withDb((db) =>
      db.select().from(chainTransactions).where(inArray(chainTransactions.signature, sigs)),
    );
    expect(stored).toHaveLength(6);
    const rows = (await requestsOf(owner)).filter((r) => sigs.includes(r.signature ?? ""));
    expect(rows.map((r) => r.transactionType).sort()).toEqual(["lock", "lock", "lock", "unlock", "unlock", "unlock"]);
  });
});

async function expectAllOrNothing(owner: string, sigs: string[]): Promise<void> {
  const stored = new Set(
    (await withDb((db) => db.select().from(chainTransactions).where(inArray(chainTransactions.signature, sigs)))).map(
      (r) => r.signature,
    ),
  );
  const rows = (await requestsOf(owner)).filter((r) => sigs.includes(r.signature ?? ""));
  for (const sig of sigs) {
    expect(rows.filter((r) => r.signature === sig)).toHaveLength(stored.has(sig) ? 1 : 0);
  }
}
