import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, desc, eq, gte } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { jobRuns } from "../../src/db/schema.ts";
import type { Bindings } from "../../src/env.ts";
import { ALL_JOBS } from "../../src/jobs/dispatch.ts";
import { schedulerStub } from "../../src/jobs/scheduler.ts";
import { ingestor, kickIngestor } from "../../src/platform/stubs.ts";
import { eventually } from "../eventually.ts";
import { rpc } from "./chain.ts";
import { call } from "./helpers.ts";
import { fireCron, withDb } from "./jobs-support.ts";

async function runsSince(since: Date, trigger: string) {
  return withDb((db) =>
    db
      .select()
      .from(jobRuns)
      .where(and(gte(jobRuns.startedAt, since), eq(jobRuns.trigger, trigger)))
      .orderBy(desc(jobRuns.startedAt)),
  );
}

describe("job dispatch and the Scheduler", () => {
  // The minute cron also runs ingestion, which may have a backlog of other files' transactions to catch up on.
  it("dispatches jobs by cron expression and records each run", { timeout: 120_000 }, async () => {
    const since = new Date();
    // One batch at most: the 1,000-vault test may be mid-round in another file.
    await fireCron("* * * * *", { RECONCILIATION_INTERVAL: "1", RECONCILIATION_MAX_BATCHES: "1" });
    await fireCron("*/5 * * * *");
    await fireCron("0 0 1 1 *");
    const minute = await runsSince(since, "* * * * *");
    expect(minute.map((r) => r.job)).toContain("reconciliation");
    const five = await runsSince(since, "*/5 * * * *");
    expect(five.map((r) => [r.job, r.outcome]).sort()).toEqual([
      ["retention", "ok"],
      ["tvl", "ok"],
    ]);
    expect(five[0]!.durationMs).toBeGreaterThanOrEqual(0);
    expect(await runsSince(since, "0 0 1 1 *")).toEqual([]);
  });

  it("runs the interval jobs on the Scheduler's alarm and re-arms it", { timeout: 60_000 }, async () => {
    const stub = schedulerStub(env as Bindings);
    const ensured = await stub.ensure();
    expect(ensured.intervalSec).toBe(30);
    expect(ensured.alarmAt).not.toBeNull();
    const since = new Date();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const runs = await runsSince(since, "scheduler");
    expect(runs.map((r) => r.job).sort()).toEqual(["balance-snapshots", "low-balance"]);
    expect(runs.every((r) => r.outcome === "ok")).toBe(true);
    const status = await stub.status();
    expect(status.alarmAt).toBeGreaterThan(Date.now());
    expect(status.lastRunAt).toBeGreaterThanOrEqual(since.getTime());
  });
});

describe("GET /monitor/status", () => {
  it("reports every job's last run, health, ingestion lag and alert counts", { timeout: 120_000 }, async () => {
    await fireCron("* * * * *", { RECONCILIATION_INTERVAL: "1", RECONCILIATION_MAX_BATCHES: "1" });
    await fireCron("*/5 * * * *");
    await runDurableObjectAlarm(schedulerStub(env as Bindings));
    const { status, body } = await call("/monitor/status");
    expect(status).toBe(200);
    const data = body.data as Record<string, unknown>;
    expect(data).toMatchObject({ database: { healthy: true }, rpc: { healthy: true }, version: "0.1.0" });
    const jobs = data.jobs as { job: string; lastRun: { outcome: string; startedAt: string } | null }[];
    expect(jobs.map((j) => j.job).sort()).toEqual([...ALL_JOBS].sort());
    for (const job of ["reconciliation", "tvl", "balance-snapshots", "low-balance"]) {
      const entry = jobs.find((j) => j.job === job)!;
      expect(entry.lastRun, job).not.toBeNull();
      expect(["ok", "partial"]).toContain(entry.lastRun!.outcome);
    }
    expect(data.alerts).toMatchObject({ open: expect.any(Number), acknowledged: expect.any(Number) });
    expect(data.ingestion).toHaveProperty("lagSlots");
    expect(data.ingestion).toHaveProperty("lagSeconds");
    expect(data.scheduler).toMatchObject({ intervalSec: 30 });
  });
});

describe("ingestion monitoring", () => {
  it("records the Ingestor's passes as job runs and measures lag from the head a pass looked up to", async () => {
    const since = new Date();
    // The Ingestor's own alarm, as Cloudflare runs it: a pass (recorded even when it finds nothing new).
    await kickIngestor(env as Bindings);
    await eventually(async () => {
      await runDurableObjectAlarm(ingestor(env as Bindings));
      const runs = await runsSince(since, "ingestor");
      return runs.some((r) => r.job === "ingest") ? runs : undefined;
    });
    const [run] = await runsSince(since, "ingestor");
    expect(["ok", "partial"]).toContain(run!.outcome);
    expect(run!.figures).toMatchObject({ committed: expect.any(Number) });

    const { body } = await call("/monitor/status");
    const head = await rpc<number>("getSlot", [{ commitment: "confirmed" }]);
    const ingestion = (body.data as { ingestion: Record<string, unknown> }).ingestion;
    // The looked-at slot is a head a complete pass started from (never above the head); the lag is counted from it
    // or from a newer transaction found since, never from an older one.
    const looked = Number(ingestion.lookedAtSlot);
    expect(looked).toBeGreaterThan(0);
    expect(looked).toBeLessThanOrEqual(head);
    expect(Number(ingestion.slot)).toBeGreaterThanOrEqual(looked);
    expect(ingestion.lagSlots as number).toBeGreaterThanOrEqual(0);
    expect(ingestion.lagSlots as number).toBeLessThanOrEqual(head - looked);
    // The ingest job shows a run, not "never run".
    const jobs = (body.data as { jobs: { job: string; lastRun: unknown }[] }).jobs;
    expect(jobs.find((j) => j.job === "ingest")!.lastRun).not.toBeNull();
  });
});
