/**
 * Retention: the operational tables keep their windows, the history never shrinks, and what a reader needs last
 * (each job's latest run, each owner's latest snapshot, alerts still being delivered) is never deleted.
 */
import { Keypair } from "@solana/web3.js";
import { and, eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { alertEvents, alerts, balanceSnapshots, jobRuns, reconciliationLogs } from "../../src/db/schema.ts";
import {
  deleteJobRuns,
  deleteOldSnapshots,
  deleteReconciliationLogs,
  deleteResolvedAlerts,
  downsampleSnapshots,
  retentionJob,
} from "../../src/jobs/retention.ts";
import { runJobsNow, withDb } from "./jobs-support.ts";

const DAY = 86_400_000;
const ago = (ms: number) => new Date(Date.now() - ms);
const owner = () => Keypair.generate().publicKey.toBase58();

function snapshot(who: string, takenAt: Date, total: bigint) {
  return { owner: who, totalBalance: total, lockedBalance: 0n, availableBalance: total, slot: 1n, takenAt };
}

describe("retention", () => {
  it("thins balance snapshots past the raw window to the last of each owner's day and deletes them past the total window, keeping each owner's latest", async () => {
    const busy = owner();
    const quiet = owner();
    // Noon of the day ten days ago, so the three snapshots share one UTC day whatever the time now.
    const tenDaysAgo = new Date(Math.floor((Date.now() - 10 * DAY) / DAY) * DAY + 12 * 3_600_000);
    const at = (base: Date, minutes: number) => new Date(base.getTime() + minutes * 60_000);
    await withDb((db) =>
      db
        .insert(balanceSnapshots)
        .values([
          snapshot(busy, ago(400 * DAY), 1n),
          snapshot(busy, ago(399 * DAY), 2n),
          snapshot(busy, at(tenDaysAgo, 0), 10n),
          snapshot(busy, at(tenDaysAgo, 30), 11n),
          snapshot(busy, at(tenDaysAgo, 60), 12n),
          snapshot(busy, ago(3_600_000), 20n),
          snapshot(busy, ago(60_000), 21n),
          snapshot(quiet, ago(500 * DAY), 7n),
        ]),
    );
    // A watermark of this test's own, so other files' runs (and theirs of this one) never interfere.
    const cursor = `test-retention-${busy.slice(0, 8)}`;
    const first = await withDb((db) => downsampleSnapshots(db, 7, new Date(), cursor));
    expect(first.partial).toBe(false);
    await withDb((db) => deleteOldSnapshots(db, 365));
    const rows = await withDb((db) =>
      db
        .select({ owner: balanceSnapshots.owner, total: balanceSnapshots.totalBalance })
        .from(balanceSnapshots)
        .where(inArray(balanceSnapshots.owner, [busy, quiet]))
        .orderBy(balanceSnapshots.takenAt),
    );
    // Ten days ago: only the day's last (12); the raw window (20, 21) as taken; past a year: gone for the busy
    // owner, and kept for the quiet owner whose only snapshot it is.
    expect(rows).toEqual([
      { owner: quiet, total: 7n },
      { owner: busy, total: 12n },
      { owner: busy, total: 20n },
      { owner: busy, total: 21n },
    ]);
    // The watermark moved to the raw window's edge: a second run reads nothing again and deletes nothing.
    const again = await withDb((db) => downsampleSnapshots(db, 7, new Date(), cursor));
    expect(again).toMatchObject({ deleted: 0, partial: false, through: first.through });
    expect(new Date(first.through!).getTime()).toBeGreaterThan(Date.now() - 8 * DAY);
  });

  it("deletes job runs past the window but keeps each job's latest run", async () => {
    const busy = `test-retention-${owner().slice(0, 10)}`;
    const idle = `${busy}-idle`;
    const run = (job: string, startedAt: Date) => ({
      job,
      trigger: "test",
      startedAt,
      durationMs: 1,
      outcome: "ok" as const,
      figures: {},
    });
    await withDb((db) =>
      db
        .insert(jobRuns)
        .values([
          run(busy, ago(20 * DAY)),
          run(busy, ago(15 * DAY)),
          run(busy, ago(3_600_000)),
          run(idle, ago(30 * DAY)),
        ]),
    );
    await withDb((db) => deleteJobRuns(db, 14));
    const left = await withDb((db) =>
      db
        .select({ job: jobRuns.job })
        .from(jobRuns)
        .where(inArray(jobRuns.job, [busy, idle])),
    );
    expect(left.map((r) => r.job).sort()).toEqual([busy, idle].sort());
  });

  it("deletes reconciliation logs past the window", async () => {
    const who = owner();
    const log = (createdAt: Date) => ({
      owner: who,
      field: "total_balance",
      expected: 2n,
      actual: 1n,
      difference: 1n,
      slot: 1n,
      createdAt,
    });
    await withDb((db) => db.insert(reconciliationLogs).values([log(ago(100 * DAY)), log(ago(DAY))]));
    await withDb((db) => deleteReconciliationLogs(db, 90));
    const left = await withDb((db) =>
      db
        .select({ createdAt: reconciliationLogs.createdAt })
        .from(reconciliationLogs)
        .where(eq(reconciliationLogs.owner, who)),
    );
    expect(left).toHaveLength(1);
    expect(left[0]!.createdAt.getTime()).toBeGreaterThan(Date.now() - 2 * DAY);
  });

  it("deletes alerts resolved past the window once delivered, never open ones or ones still in the outbox", async () => {
    const key = `test-retention-${owner().slice(0, 10)}`;
    const alert = (suffix: string, status: "open" | "resolved", resolvedAt: Date | null) => ({
      kind: "test_retention",
      severity: "info",
      dedupKey: `${key}-${suffix}`,
      message: "retention test",
      status,
      createdAt: ago(200 * DAY),
      lastSeenAt: ago(200 * DAY),
      resolvedAt,
    });
    const ids = await withDb(async (db) => {
      const inserted = await db
        .insert(alerts)
        .values([
          alert("delivered", "resolved", ago(100 * DAY)),
          alert("undelivered", "resolved", ago(100 * DAY)),
          alert("recent", "resolved", ago(DAY)),
          alert("open", "open", null),
        ])
        .returning({ id: alerts.id, dedupKey: alerts.dedupKey });
      const id = (s: string) => inserted.find((r) => r.dedupKey === `${key}-${s}`)!.id;
      await db.insert(alertEvents).values([
        { alertId: id("delivered"), event: "resolved", dispatchedAt: ago(100 * DAY) },
        { alertId: id("undelivered"), event: "resolved", dispatchedAt: null },
      ]);
      return { delivered: id("delivered"), all: inserted.map((r) => r.id) };
    });
    await withDb((db) => deleteResolvedAlerts(db, 90));
    const left = await withDb((db) =>
      db.select({ dedupKey: alerts.dedupKey }).from(alerts).where(inArray(alerts.id, ids.all)),
    );
    expect(left.map((r) => r.dedupKey).sort()).toEqual([`${key}-open`, `${key}-recent`, `${key}-undelivered`].sort());
    // The outbox rows went with their alert.
    const events = await withDb((db) =>
      db
        .select()
        .from(alertEvents)
        .where(and(eq(alertEvents.alertId, ids.delivered))),
    );
    expect(events).toEqual([]);
  });

  it("runs as a job and records its figures", async () => {
    const trigger = `test-retention-${owner().slice(0, 8)}`;
    await runJobsNow([retentionJob], trigger);
    const [run] = await withDb((db) =>
      db
        .select()
        .from(jobRuns)
        .where(and(eq(jobRuns.job, "retention"), eq(jobRuns.trigger, trigger))),
    );
    expect(run, "the retention run was recorded").toBeDefined();
    expect(run!.outcome, String(run!.error)).not.toBe("error");
    expect(run!.figures).toMatchObject({ jobRunsDeleted: expect.any(Number), snapshotsDeleted: expect.any(Number) });
  });
});
