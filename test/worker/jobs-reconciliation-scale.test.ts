import { desc, eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { jobRuns, reconciliationLogs, vaults } from "../../src/db/schema.ts";
import { reconciliationJob } from "../../src/jobs/reconciliation.ts";
import { eventually } from "../eventually.ts";
import { chainVaults, createManyVaults, runJobsNow, usdtMint, withDb } from "./jobs-support.ts";

const TRIGGER = "test-chunks";
const MAX_BATCHES = 4;

describe("reconciliation at scale", () => {
  it("reconciles 1,000 vaults in bounded, resumable chunks, discovering them in small partition scans", {
    timeout: 300_000,
  }, async () => {
    const started = Date.now();
    const owners = await createManyVaults(1_000);
    console.info(`created 1,000 vaults in ${Date.now() - started} ms`);
    const onChain = await chainVaults();
    expect(onChain.length).toBeGreaterThanOrEqual(1_000);

    // Each invocation may make at most 4 getMultipleAccounts calls (200 vaults); the round resumes from the cursor.
    // Partitioned discovery whatever the cache's size (RECONCILIATION_SINGLE_SCAN_MAX 0).
    const overrides = {
      RECONCILIATION_INTERVAL: "1",
      RECONCILIATION_MAX_BATCHES: String(MAX_BATCHES),
      RECONCILIATION_SINGLE_SCAN_MAX: "0",
    };
    const since = new Date();
    // Another file's invocation may hold the reconciliation lease for a while: run again until every vault is cached.
    await eventually(
      async () => {
        await runJobsNow([reconciliationJob], TRIGGER, overrides);
        const rows = await withDb((db) =>
          db.select({ owner: vaults.owner }).from(vaults).where(inArray(vaults.owner, owners)),
        );
        return rows.length === owners.length ? true : undefined;
      },
      { timeoutMs: 150_000, everyMs: 100, what: "every vault of the round in the cache" },
    );

    const runs = await withDb((db) =>
      db.select().from(jobRuns).where(eq(jobRuns.trigger, TRIGGER)).orderBy(desc(jobRuns.startedAt)),
    );
    const mine = runs.filter((r) => r.startedAt >= since);
    // 1,000 new vaults need at least 20 batches of 50: several invocations, none above the bound.
    expect(mine.length).toBeGreaterThan(1);
    for (const run of mine) {
      expect((run.figures as { batches: number }).batches).toBeLessThanOrEqual(MAX_BATCHES);
    }
    expect(mine.some((r) => r.outcome === "partial")).toBe(true);
    // Discovery reads the program in owner-byte partitions: no answer holds more than a small share of the vaults.
    const scans = mine.map((r) => r.figures as { discoveryScans?: number; largestScanAccounts?: number });
    expect(scans.some((f) => (f.discoveryScans ?? 0) > 0)).toBe(true);
    const largest = Math.max(...scans.map((f) => f.largestScanAccounts ?? 0));
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThan(onChain.length / 16);

    const rows = await withDb((db) => db.select().from(vaults).where(inArray(vaults.owner, owners)));
    const mint = usdtMint().toBase58();
    expect(rows.filter((r) => r.totalBalance !== 0n || r.status !== "active" || r.mint !== mint)).toEqual([]);
    const logs = await withDb((db) =>
      db
        .select()
        .from(reconciliationLogs)
        .where(inArray(reconciliationLogs.owner, owners.slice(0, 500))),
    );
    expect(logs).toEqual([]);
  });
});
