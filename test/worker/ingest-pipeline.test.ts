import { eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { lockCollateralIx, unlockCollateralIx } from "../../src/chain/program/index.ts";
import { chainTransactions, transactions, vaults } from "../../src/db/schema.ts";
import { eventually } from "../eventually.ts";
import { fundedWallet, rpc, signBase64 } from "./chain.ts";
import { postJson } from "./helpers.ts";
import { confirmed, ingestPass, programId, sendDirect, walletWithVault, withDb } from "./ingest-support.ts";

const historyOf = (owner: string) =>
  withDb((db) => db.select().from(transactions).where(eq(transactions.vaultOwner, owner)));

describe("ingestion from the chain", () => {
  it("turns a deposit sent straight to the chain into a confirmed, then finalized history row and a cached vault", async () => {
    const { owner, depositSig, init } = await walletWithVault(7_000_000n);
    await ingestPass();

    const rows = await historyOf(owner);
    expect(rows.map((r) => r.transactionType).sort()).toEqual(["deposit", "initialize"]);
    const deposit = rows.find((r) => r.transactionType === "deposit")!;
    expect(deposit).toMatchObject({ signature: depositSig, amount: 7_000_000n, eventIndex: 0 });
    expect(["confirmed", "finalized"]).toContain(deposit.status);
    expect(deposit.slot).not.toBeNull();
    expect(deposit.blockTime).toBeInstanceOf(Date);
    expect(rows.find((r) => r.transactionType === "initialize")!.signature).toBe(init);

    const [cached] = await withDb((db) => db.select().from(vaults).where(eq(vaults.owner, owner)));
    expect(cached).toMatchObject({
      totalBalance: 7_000_000n,
      availableBalance: 7_000_000n,
      totalDeposited: 7_000_000n,
    });

    await eventually(async () => {
      await ingestPass({ finalize: true });
      const after = await historyOf(owner);
      return after.every((r) => r.status === "finalized") ? true : undefined;
    }, 90_000);
    // The first pass of a run may catch up the whole shared localnet history (every test file's transactions).
  }, 120_000);

  it("stopped mid-batch and restarted, stores every event exactly once", async () => {
    const { owner, vault } = await walletWithVault(1_000_000n);
    const signer = await fundedWallet();
    const sigs: string[] = [];
    for (let i = 1; i <= 24; i++) {
      const ix = (i % 2 ? lockCollateralIx : unlockCollateralIx)({
        programId: programId(),
        authority: signer.publicKey,
        vault,
        amount: BigInt(i % 2 ? 1000 + i : 1000 + i - 1),
      });
      sigs.push(await sendDirect([ix], signer));
    }
    await confirmed(sigs[sigs.length - 1]!);

    // A pass aborted after its second batch: the third batch in hand is not committed.
    const ac = new AbortController();
    let batches = 0;
    await expect(
      ingestPass({
        batchSize: 5,
        signal: ac.signal,
        onBatch: () => {
          if (++batches === 2) ac.abort();
        },
      }),
    ).rejects.toThrow();
    await ingestPass({ batchSize: 7 });
    await ingestPass();

    const chain = await rpc<{ signature: string; err: unknown }[]>("getSignaturesForAddress", [
      vault.toBase58(),
      { commitment: "confirmed", limit: 1000 },
    ]);
    const succeeded = chain.filter((s) => !s.err).map((s) => s.signature);
    const rows = await historyOf(owner);
    // One row per event: initialize, deposit, 12 locks, 12 unlocks; each signature once.
    expect(rows).toHaveLength(succeeded.length);
    expect(new Set(rows.map((r) => r.signature))).toEqual(new Set(succeeded));
    expect(rows.filter((r) => r.transactionType === "lock")).toHaveLength(12);
    expect(rows.filter((r) => r.transactionType === "unlock")).toHaveLength(12);
    const stored = await withDb((db) =>
      db.select().from(chainTransactions).where(inArray(chainTransactions.signature, sigs)),
    );
    expect(stored).toHaveLength(24);
  });

  it("matches API-built requests by message hash: a landed one is confirmed once, a failed one gets the program error", async () => {
    const { wallet, owner, vault } = await walletWithVault(3_000_000n);
    const userPubkey = owner;
    const deposit = await postJson("/vault/deposit", { userPubkey, amount: 1_000_000 });
    const withdraw = await postJson("/vault/withdraw", { userPubkey, amount: 3_000_000 });
    expect(deposit.status).toBe(200);
    expect(withdraw.status).toBe(200);
    const dep = deposit.body.data as Record<string, string>;
    const wd = withdraw.body.data as Record<string, string>;
    // Someone locks collateral first, so the withdrawal built for the full balance fails on chain.
    const signer = await fundedWallet();
    const lock = await sendDirect(
      [lockCollateralIx({ programId: programId(), authority: signer.publicKey, vault, amount: 2_500_000n })],
      signer,
    );
    await confirmed(lock);
    // The wallet submits both straight to the RPC, never telling the backend.
    const depSig = await rpc<string>("sendTransaction", [
      signBase64(dep.unsignedTransaction!, wallet),
      { encoding: "base64", skipPreflight: true },
    ]);
    const wdSig = await rpc<string>("sendTransaction", [
      signBase64(wd.unsignedTransaction!, wallet),
      { encoding: "base64", skipPreflight: true },
    ]);
    await confirmed(depSig);
    await confirmed(wdSig);
    await ingestPass();

    const rows = await historyOf(owner);
    const deposits = rows.filter((r) => r.signature === depSig);
    expect(deposits).toHaveLength(1);
    expect(deposits[0]).toMatchObject({ id: dep.transactionId, transactionType: "deposit", eventIndex: 0 });
    expect(["confirmed", "finalized"]).toContain(deposits[0]!.status);
    const failed = rows.find((r) => r.id === wd.transactionId)!;
    expect(failed).toMatchObject({
      status: "failed",
      signature: wdSig,
      errorName: "InsufficientBalance",
      errorCode: 12010,
    });
    const [ct] = await withDb((db) =>
      db.select().from(chainTransactions).where(eq(chainTransactions.signature, wdSig)),
    );
    expect(ct).toMatchObject({ commitment: "failed", eventCount: 0 });
    expect(rows.filter((r) => r.transactionType === "withdrawal")).toHaveLength(1);
  });
});
