import { Keypair } from "@solana/web3.js";
import { and, desc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { alerts, reconciliationLogs, vaults } from "../../src/db/schema.ts";
import { readState } from "../../src/jobs/reconcile-cursor.ts";
import { reconciliationJob } from "../../src/jobs/reconciliation.ts";
import { eventually } from "../eventually.ts";
import { createVault, donate, runJobsNow, type TestVault, withDb } from "./jobs-support.ts";

/** Reconciliation due at every call (interval 1 s), so each test starts rounds of its own. */
const DUE = { RECONCILIATION_INTERVAL: "1" };

async function cacheRow(owner: string) {
  return withDb(async (db) => (await db.select().from(vaults).where(eq(vaults.owner, owner)))[0] ?? null);
}

async function logsFor(owner: string) {
  return withDb((db) =>
    db.select().from(reconciliationLogs).where(eq(reconciliationLogs.owner, owner)).orderBy(reconciliationLogs.field),
  );
}

/** Runs reconciliation until `done` holds (other test files share the round, so one run may not reach a vault). */
async function reconcileUntil<T>(done: () => Promise<T | undefined | null | false>, runs = 40): Promise<T> {
  return eventually(
    async () => {
      await runJobsNow([reconciliationJob], "test-reconciliation", DUE);
      return (await done()) || undefined;
    },
    { timeoutMs: runs * 1_000, everyMs: 150, what: "the state reconciliation was expected to reach" },
  );
}

/** Waits until the cache holds the vault at (or after) the slot that created it. */
async function cached(v: TestVault) {
  return reconcileUntil(async () => {
    const row = await cacheRow(v.owner);
    return row && row.slot >= BigInt(v.slot) ? row : null;
  });
}

describe("reconciliation", () => {
  it("logs every field of a cache row edited behind the backend's back with exact figures, and repairs it", async () => {
    const v = await createVault(100_000_000n);
    const before = await cached(v);
    await withDb((db) =>
      db
        .update(vaults)
        .set({ totalBalance: 1n, availableBalance: 1n, totalDeposited: 7n })
        .where(eq(vaults.owner, v.owner)),
    );

    const logs = await reconcileUntil(async () => {
      const rows = await logsFor(v.owner);
      return rows.length >= 3 ? rows : null;
    });
    expect(logs.map((l) => [l.field, l.expected, l.actual, l.difference, l.repaired])).toEqual([
      ["available_balance", 100_000_000n, 1n, 99_999_999n, true],
      ["total_balance", 100_000_000n, 1n, 99_999_999n, true],
      ["total_deposited", 100_000_000n, 7n, 99_999_993n, true],
    ]);
    expect(logs.every((l) => l.slot >= before.slot)).toBe(true);
    const after = await cacheRow(v.owner);
    expect(after).toMatchObject({
      totalBalance: 100_000_000n,
      availableBalance: 100_000_000n,
      lockedBalance: 0n,
      totalDeposited: 100_000_000n,
      totalWithdrawn: 0n,
      status: "active",
    });
    const raised = await withDb((db) =>
      db
        .select()
        .from(alerts)
        .where(and(eq(alerts.owner, v.owner), eq(alerts.kind, "reconciliation_mismatch"))),
    );
    expect(raised).toHaveLength(1);
  });

  it("records tokens sent straight to a vault's token account with exact figures and alerts once", async () => {
    const v = await createVault(100_000_000n);
    await cached(v);
    await donate(v.tokenAccount, 5_000_000n);

    const logs = await reconcileUntil(async () => {
      const rows = await logsFor(v.owner);
      return rows.length > 0 ? rows : null;
    });
    // Another round sees the same figures: no second log row, no second alert.
    await runJobsNow([reconciliationJob], "test-reconciliation", DUE);
    expect((await logsFor(v.owner)).map((l) => [l.field, l.expected, l.actual, l.difference, l.repaired])).toEqual([
      ["token_account_amount", 100_000_000n, 105_000_000n, -5_000_000n, false],
    ]);
    expect(logs[0]!.slot).toBeGreaterThan(0n);
    // The cache follows what the program records, which the donation did not change.
    expect(await cacheRow(v.owner)).toMatchObject({ totalBalance: 100_000_000n, availableBalance: 100_000_000n });
    const raised = await withDb((db) =>
      db
        .select()
        .from(alerts)
        .where(and(eq(alerts.owner, v.owner), eq(alerts.kind, "token_balance_mismatch"))),
    );
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ status: "open", dedupKey: `token_mismatch:${v.owner}` });
  });

  it("discovers a vault that exists only on chain and caches its exact state", async () => {
    const v = await createVault(42_000_000n);
    // Whatever cached it (ingestion may have), the cache loses it; reconciliation must find it on chain.
    await cached(v);
    await withDb((db) => db.delete(vaults).where(eq(vaults.owner, v.owner)));

    const row = await reconcileUntil(() => cacheRow(v.owner));
    expect(row).toMatchObject({
      owner: v.owner,
      vaultAddress: v.vaultAddress,
      tokenAccount: v.tokenAccount.toBase58(),
      totalBalance: 42_000_000n,
      availableBalance: 42_000_000n,
      totalDeposited: 42_000_000n,
      status: "active",
    });
    expect(row!.slot).toBeGreaterThanOrEqual(BigInt(v.slot));
    expect(await logsFor(v.owner)).toEqual([]);
  });

  it("never overwrites a cache row that reflects a newer slot than the chain read", async () => {
    const v = await createVault(10_000_000n);
    await cached(v);
    const future = 1_000_000_000_000n;
    await withDb((db) =>
      db.update(vaults).set({ totalBalance: 3n, availableBalance: 3n, slot: future }).where(eq(vaults.owner, v.owner)),
    );
    // Run until a whole round has started and finished after the edit.
    const edited = Date.now();
    await reconcileUntil(async () => {
      const state = await withDb((db) => readState(db));
      return state?.lastRound && Date.parse(state.lastRound.startedAt) > edited;
    });
    expect(await cacheRow(v.owner)).toMatchObject({ totalBalance: 3n, slot: future });
    expect(await logsFor(v.owner)).toEqual([]);
  });

  it("marks a cached vault that is gone from the chain as closed", async () => {
    const owner = Keypair.generate().publicKey.toBase58();
    const vaultAddress = Keypair.generate().publicKey.toBase58();
    await withDb((db) =>
      db.insert(vaults).values({
        owner,
        vaultAddress,
        tokenAccount: Keypair.generate().publicKey.toBase58(),
        totalBalance: 5n,
        availableBalance: 5n,
        slot: 1n,
      }),
    );
    const row = await reconcileUntil(async () => {
      const r = await cacheRow(owner);
      return r?.status === "closed" ? r : null;
    });
    expect(row.slot).toBeGreaterThan(1n);
    const raised = await withDb((db) =>
      db
        .select()
        .from(alerts)
        .where(eq(alerts.dedupKey, `vault_missing_on_chain:${owner}`))
        .orderBy(desc(alerts.id)),
    );
    expect(raised).toHaveLength(1);
  });
});
