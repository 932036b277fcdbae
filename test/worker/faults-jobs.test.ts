import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { jobRuns, reconciliationLogs, vaults } from "../../src/db/schema.ts";
import type { Bindings } from "../../src/env.ts";
import { type BatchItem, reconcileBatch } from "../../src/jobs/reconcile-batch.ts";
import { acquireLease, type ReconciliationState, saveState } from "../../src/jobs/reconcile-cursor.ts";
import { reconciliationJob } from "../../src/jobs/reconciliation.ts";
import { backgroundServices } from "../../src/platform/services.ts";
import { eventually } from "../eventually.ts";
import { restrictedDatabaseUrl } from "./hardening-support.ts";
import { createVault, runJobsNow, type TestVault, withDb } from "./jobs-support.ts";

/** May update cached vaults and job bookkeeping but not write reconciliation_logs: fails between a repair and its log. */
const noLogsDatabaseUrl = () =>
  restrictedDatabaseUrl("fault_nologs", [
    "insert, update on cursors, job_runs, vaults",
    "usage on all sequences in schema public",
  ]);

const row = (owner: string) =>
  withDb(async (db) => (await db.select().from(vaults).where(eq(vaults.owner, owner)))[0] ?? null);
const logsOf = (owner: string) =>
  withDb((db) => db.select().from(reconciliationLogs).where(eq(reconciliationLogs.owner, owner)));

/** Reconciles one vault as a batch, with the given database. */
async function reconcileOne(v: TestVault, DATABASE_URL = env.DATABASE_URL!) {
  const services = backgroundServices({ ...env, DATABASE_URL } as Bindings, { test: "faults-jobs" });
  try {
    const item: BatchItem = {
      address: v.vaultAddress,
      tokenAccount: v.tokenAccount.toBase58(),
      cached: await row(v.owner),
    };
    return await reconcileBatch(services, [item], v.slot);
  } finally {
    await services.close();
  }
}

/** A vault on chain with 5 USDT, in the cache. */
async function cachedVault(): Promise<TestVault> {
  const v = await createVault(5_000_000n);
  if (!(await row(v.owner))) await reconcileOne(v);
  return v;
}

/** The cache row says 1 base unit where the chain has 5 USDT. */
const corrupt = (v: TestVault) =>
  withDb((db) => db.update(vaults).set({ totalBalance: 1n, availableBalance: 1n }).where(eq(vaults.owner, v.owner)));

/** Runs `fn` holding the reconciliation lease, so no other file's reconciliation touches the cache meanwhile. */
async function holdingReconciliationLease<T>(fn: () => Promise<T>): Promise<T> {
  const held: ReconciliationState = await eventually(
    async () => (await withDb((db) => acquireLease(db, Date.now()))) ?? undefined,
    { timeoutMs: 30_000, everyMs: 100, what: "the reconciliation lease" },
  );
  try {
    return await fn();
  } finally {
    await withDb((db) => saveState(db, held, true));
  }
}

describe("database faults during jobs", () => {
  it("a repair whose log cannot be written is rolled back whole; the next run repairs and logs it exactly once", async () => {
    const v = await cachedVault();
    const failingUrl = await noLogsDatabaseUrl();
    await holdingReconciliationLease(async () => {
      await corrupt(v);
      await expect(reconcileOne(v, failingUrl)).rejects.toThrow();
      expect(await row(v.owner)).toMatchObject({ totalBalance: 1n, availableBalance: 1n });
      expect(await logsOf(v.owner)).toHaveLength(0);

      await expect(reconcileOne(v, "postgres://postgres:x@127.0.0.1:1/none")).rejects.toThrow();
      expect(await row(v.owner)).toMatchObject({ totalBalance: 1n });

      const repaired = await reconcileOne(v);
      expect(repaired.figures).toMatchObject({ repaired: 1, differences: 2, failed: 0 });
      await reconcileOne(v);
    });
    expect(await row(v.owner)).toMatchObject({ totalBalance: 5_000_000n, availableBalance: 5_000_000n });
    const logs = await logsOf(v.owner);
    expect(logs.map((l) => [l.field, l.expected, l.actual, l.repaired]).sort()).toEqual([
      ["available_balance", 5_000_000n, 1n, true],
      ["total_balance", 5_000_000n, 1n, true],
    ]);
  });

  it("a reconciliation run that meets the failing database is recorded as an error, releases its lease, and a later run repairs", async () => {
    const v = await cachedVault();
    const trigger = `test-db-fault-${crypto.randomUUID().slice(0, 8)}`;
    // Other files reconcile the same database: a run only counts once it held the lease and met the fault (the
    // vault is corrupted again before each try, in case another file's run repaired it in between).
    const walk = { RECONCILIATION_INTERVAL: "1", RECONCILIATION_MAX_BATCHES: "500" };
    const failingUrl = await noLogsDatabaseUrl();
    const failed = await eventually(
      async () => {
        await corrupt(v);
        await runJobsNow([reconciliationJob], trigger, { ...walk, DATABASE_URL: failingUrl });
        const [run] = await withDb((db) =>
          db
            .select()
            .from(jobRuns)
            .where(and(eq(jobRuns.trigger, trigger), eq(jobRuns.outcome, "error"))),
        );
        return run;
      },
      { timeoutMs: 60_000, everyMs: 250, what: "a reconciliation run that met the failing database" },
    );
    // Whichever write outside the login's grants came first (this vault's log, or another file's vault's alert).
    expect(failed?.error).toMatch(/cause: .*permission denied for table (reconciliation_logs|alerts).*\[42501\]/s);

    // Recovered: the failed run released the lease, the round resumes, and the vault is repaired.
    const recovered = `${trigger}-recovered`;
    await eventually(
      async () => {
        if ((await row(v.owner))?.totalBalance === 5_000_000n) return true;
        await runJobsNow([reconciliationJob], recovered, walk);
        return undefined;
      },
      { timeoutMs: 60_000, everyMs: 0, what: "the repaired vault" },
    );
    expect(await row(v.owner)).toMatchObject({ totalBalance: 5_000_000n, availableBalance: 5_000_000n });
    const logs = await logsOf(v.owner);
    expect(new Set(logs.map((l) => l.field))).toEqual(new Set(["available_balance", "total_balance"]));
  });
});
