import { desc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { alerts, balanceSnapshots, jobRuns, tvlSnapshots, vaults } from "../../src/db/schema.ts";
import { balanceSnapshotsJob } from "../../src/jobs/balance-snapshots.ts";
import { cacheTvl } from "../../src/vault/tvl.ts";
import { call } from "./helpers.ts";
import {
  cachedAt,
  createVault,
  depositMore,
  donate,
  fireCron,
  runJobsNow,
  usdtMint,
  withDb,
  withdrawFrom,
} from "./jobs-support.ts";

const cacheTotals = () => withDb((db) => cacheTvl(db, usdtMint().toBase58()));

async function latestTvl() {
  return withDb(async (db) => (await db.select().from(tvlSnapshots).orderBy(desc(tvlSnapshots.id)).limit(1))[0]!);
}

describe("TVL job", () => {
  it("runs from its cron string and records the cache's sums, alerting when token accounts hold more", async () => {
    const v = await createVault(30_000_000n);
    await donate(v.tokenAccount, 2_000_000n);
    // A deposit after the donation: ingestion reads the vault's token account with it, so the cache sees the excess.
    await cachedAt(v.owner, await depositMore(v, 1_000_000n));
    const [row] = await withDb((db) => db.select().from(vaults).where(eq(vaults.owner, v.owner)));
    expect([row!.totalBalance, row!.tokenAmount]).toEqual([31_000_000n, 33_000_000n]);
    // Other test files move the cache too: retry until it did not change while the job ran.
    let matched = false;
    for (let i = 0; i < 10 && !matched; i++) {
      const before = await cacheTotals();
      await fireCron("*/5 * * * *");
      const after = await cacheTotals();
      if (JSON.stringify(before, (_k, x) => String(x)) !== JSON.stringify(after, (_k, x) => String(x))) continue;
      const snapshot = await latestTvl();
      expect(snapshot.totalValueLocked).toBe(after.totalValueLocked);
      expect(snapshot.recordedTotal).toBe(after.recordedTotal);
      expect(snapshot.tokenAccountTotal).toBe(after.tokenAccountTotal);
      expect(snapshot.activeVaults).toBe(after.activeVaults);
      expect(snapshot.totalLocked + snapshot.totalAvailable).toBe(snapshot.recordedTotal);
      matched = true;
    }
    expect(matched).toBe(true);
    const [run] = await withDb((db) =>
      db.select().from(jobRuns).where(eq(jobRuns.job, "tvl")).orderBy(desc(jobRuns.startedAt)).limit(1),
    );
    expect(run).toMatchObject({ trigger: "*/5 * * * *", outcome: "ok" });
    expect(run!.figures).toMatchObject({ source: "cache" });
    const open = await withDb((db) => db.select().from(alerts).where(eq(alerts.dedupKey, "tvl_token_mismatch")));
    expect(open.filter((a) => a.status !== "resolved")).toHaveLength(1);
  });

  it("serves the TVL series in a time range, raw and bucketed", async () => {
    const from = new Date(Date.now() - 1000).toISOString();
    await fireCron("*/5 * * * *");
    await fireCron("*/5 * * * *");
    const to = new Date(Date.now() + 1000).toISOString();
    const raw = await call(`/vault/tvl/history?from=${from}&to=${to}`);
    expect(raw.status).toBe(200);
    const points = raw.body.data!.points as { takenAt: string; totalValueLocked: number }[];
    expect(points.length).toBeGreaterThanOrEqual(2);
    expect(points.map((p) => p.takenAt)).toEqual([...points.map((p) => p.takenAt)].sort());
    const latest = await latestTvl();
    expect(BigInt(points[points.length - 1]!.totalValueLocked)).toBe(latest.totalValueLocked);

    const byDay = await call(`/vault/tvl/history?from=${from}&to=${to}&bucket=day`);
    const days = byDay.body.data!.points as { bucketStart: string; totalValueLocked: number }[];
    expect(days.length).toBeGreaterThanOrEqual(1);
    expect(days.length).toBeLessThanOrEqual(2);
    expect(BigInt(days[days.length - 1]!.totalValueLocked)).toBe(latest.totalValueLocked);
  });
});

describe("balance snapshots", () => {
  it("records every step of a balance as a point, adds nothing while unchanged, and serves the owner's series", async () => {
    const v = await createVault(50_000_000n);
    const from = new Date(Date.now() - 1000).toISOString();
    await cachedAt(v.owner, v.slot);
    await runJobsNow([balanceSnapshotsJob], "test-snapshots");
    await runJobsNow([balanceSnapshotsJob], "test-snapshots");
    // Two steps that may land in one ingestion batch: each is a point of its own (0 → 50 → 75 → 60).
    await depositMore(v, 25_000_000n);
    const last = await withdrawFrom(v, 15_000_000n);
    await cachedAt(v.owner, last);
    await runJobsNow([balanceSnapshotsJob], "test-snapshots");
    await runJobsNow([balanceSnapshotsJob], "test-snapshots");

    const rows = await withDb((db) =>
      db.select().from(balanceSnapshots).where(eq(balanceSnapshots.owner, v.owner)).orderBy(balanceSnapshots.id),
    );
    expect(rows.map((r) => [r.totalBalance, r.availableBalance, r.lockedBalance])).toEqual([
      [0n, 0n, 0n],
      [50_000_000n, 50_000_000n, 0n],
      [75_000_000n, 75_000_000n, 0n],
      [60_000_000n, 60_000_000n, 0n],
    ]);

    const history = await call(`/vault/balance/${v.owner}/history?from=${from}`);
    expect(history.status).toBe(200);
    expect(history.body.data).toMatchObject({ owner: v.owner, bucket: "raw", truncated: false });
    const points = history.body.data!.points as Record<string, unknown>[];
    expect(points.map((p) => p.totalBalance)).toEqual([0, 50_000_000, 75_000_000, 60_000_000]);
    expect(points[2]).toMatchObject({ availableBalance: 75_000_000, lockedBalance: 0 });
  });

  it("snapshots a cache row the ingestion did not write (a reconciliation repair) once", async () => {
    const v = await createVault(5_000_000n);
    await cachedAt(v.owner, v.slot);
    // As a repair would: the cache changes without an ingested step.
    await withDb((db) =>
      db
        .update(vaults)
        .set({ totalBalance: 6_000_000n, availableBalance: 6_000_000n })
        .where(eq(vaults.owner, v.owner)),
    );
    await runJobsNow([balanceSnapshotsJob], "test-snapshots");
    await runJobsNow([balanceSnapshotsJob], "test-snapshots");
    const rows = await withDb((db) =>
      db.select().from(balanceSnapshots).where(eq(balanceSnapshots.owner, v.owner)).orderBy(balanceSnapshots.id),
    );
    expect(rows.map((r) => r.totalBalance)).toEqual([0n, 5_000_000n, 6_000_000n]);
  });

  it("refuses malformed history queries with coded 400s", async () => {
    const owner = (await createVault(0n)).owner;
    const cases: [string, string][] = [
      [`/vault/balance/${owner}/history?from=yesterday`, "INVALID_TIMESTAMP"],
      [`/vault/balance/${owner}/history?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z`, "INVALID_TIME_RANGE"],
      ["/vault/tvl/history?from=2020-01-01&to=2022-01-01", "INVALID_TIME_RANGE"],
      ["/vault/tvl/history?from=2026-01-01&to=2026-11-01&bucket=minute", "INVALID_TIME_RANGE"],
      ["/vault/tvl/history?bucket=week", "INVALID_BUCKET"],
      ["/vault/tvl/history?limit=5", "VALIDATION_FAILED"],
      ["/vault/balance/not-a-key/history", "INVALID_PUBKEY"],
    ];
    for (const [path, code] of cases) {
      const res = await call(path);
      expect([path, res.status, res.body.error?.code]).toEqual([path, 400, code]);
    }
    const unknown = await call("/vault/balance/11111111111111111111111111111112/history");
    expect([unknown.status, unknown.body.error?.code]).toEqual([404, "VAULT_NOT_FOUND"]);
  });
});
