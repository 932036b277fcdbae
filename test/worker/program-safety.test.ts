/**
 * Program safety reported by the service itself: on start and then every PROGRAM_SAFETY_INTERVAL the backend asks,
 * by simulation only, whether a stranger can lock, unlock or transfer a vault's collateral. The localnet runs the
 * program as deployed (bug §8.1), so the honest answer here is "exposed".
 */
import { and, desc, eq, gte } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import pkg from "../../package.json" with { type: "json" };
import { alerts, jobRuns } from "../../src/db/schema.ts";
import { PROGRAM_SAFETY_JOB, programSafetyJob } from "../../src/jobs/program-safety.ts";
import { classify } from "../../src/jobs/program-safety-check.ts";
import { eventually } from "../eventually.ts";
import { rpc } from "./chain.ts";
import { call } from "./helpers.ts";
import { ingestPass, walletWithVault, withDb } from "./ingest-support.ts";
import { runJobsNow } from "./jobs-support.ts";

interface SafetyView {
  status: string;
  checkedAt: string | null;
  stranger: string;
  vault: string;
  operations: Record<string, { outcome: string; error: string | null }>;
}

const runsOf = (trigger: string) =>
  withDb((db) =>
    db
      .select()
      .from(jobRuns)
      .where(and(eq(jobRuns.job, PROGRAM_SAFETY_JOB), eq(jobRuns.trigger, trigger))),
  );

describe("program safety", () => {
  it("reports in /monitor/status, with the time it was checked, that a stranger can lock, unlock and transfer — sending nothing", async () => {
    await walletWithVault(5_000_000n);
    await ingestPass();
    const since = Date.now();
    const safety = await eventually(async () => {
      await runJobsNow([programSafetyJob], "test-safety", { PROGRAM_SAFETY_INTERVAL: "1" });
      const { status, body } = await call("/monitor/status");
      expect(status).toBe(200);
      const view = (body.data as { programSafety: SafetyView }).programSafety;
      return view.checkedAt && Date.parse(view.checkedAt) >= since ? view : undefined;
    });
    expect(safety).toMatchObject({
      status: "exposed",
      operations: {
        lock: { outcome: "exposed", error: null },
        unlock: { outcome: "exposed", error: null },
        transfer: { outcome: "exposed", error: null },
      },
    });
    expect(Date.parse(safety.checkedAt!)).toBeLessThanOrEqual(Date.now());
    // The stranger's key signed nothing that reached the chain: no transaction names it.
    expect(await rpc("getSignaturesForAddress", [safety.stranger, { commitment: "confirmed" }])).toEqual([]);
    const open = await withDb((db) => db.select().from(alerts).where(eq(alerts.dedupKey, "program_exposed")));
    expect(open.filter((a) => a.status !== "resolved")).toHaveLength(1);
  });

  it("checks at once after a deploy of another version, then not again within the interval", async () => {
    await walletWithVault(5_000_000n);
    await ingestPass();
    const deployedAt = new Date();
    await withDb((db) =>
      db.insert(jobRuns).values({
        job: PROGRAM_SAFETY_JOB,
        trigger: "test-previous-version",
        startedAt: deployedAt,
        durationMs: 1,
        outcome: "ok",
        figures: { status: "exposed", version: "0.0.0-previous" },
      }),
    );
    // The minute cron of another file may be the one that checks first: any check since counts.
    const check = await eventually(async () => {
      await runJobsNow([programSafetyJob], "test-after-deploy");
      const [latest] = await withDb((db) =>
        db
          .select()
          .from(jobRuns)
          .where(and(eq(jobRuns.job, PROGRAM_SAFETY_JOB), gte(jobRuns.startedAt, deployedAt)))
          .orderBy(desc(jobRuns.startedAt))
          .limit(1),
      );
      return latest && latest.trigger !== "test-previous-version" ? latest : undefined;
    });
    expect(check.figures).toMatchObject({ version: pkg.version, status: "exposed" });
    await runJobsNow([programSafetyJob], "test-within-interval");
    expect(await runsOf("test-within-interval")).toEqual([]);
  });
});

const failed = (index: number, error: unknown, logs: string[] = []) => ({
  err: { InstructionError: [index, error] },
  logs,
});

/**
 * How the check reads a simulation: success means a stranger could do it; an error about the caller means the
 * program refused; an error about funds or state (or a refused setup step) answers nothing.
 */
describe("program-safety classification", () => {
  it("calls a successful simulation exposed", () => {
    expect(classify({ err: null, logs: [] }, 0)).toEqual({ outcome: "exposed", error: null });
  });

  it("calls an authorization error refused, whichever form the program gives it", () => {
    expect(classify(failed(0, { Custom: 12021 }), 0)).toEqual({
      outcome: "refused",
      error: "UnauthorizedProgram (12021)",
    });
    expect(classify(failed(0, "MissingRequiredSignature"), 0).outcome).toBe("refused");
    expect(classify(failed(0, { Custom: 2003 }), 0).outcome).toBe("refused");
  });

  it("calls errors about funds, pause or the token program inconclusive", () => {
    for (const code of [6000, 12010, 12012, 12032, 1]) {
      expect(classify(failed(0, { Custom: code }), 0).outcome, String(code)).toBe("inconclusive");
    }
    expect(classify({ err: "AccountNotFound", logs: [] }, 0).outcome).toBe("inconclusive");
  });

  it("calls an unlock inconclusive when the stranger's own lock before it was refused", () => {
    expect(classify(failed(0, { Custom: 12021 }), 1)).toEqual({
      outcome: "inconclusive",
      error: "setup refused: UnauthorizedProgram (12021)",
    });
    expect(classify(failed(1, { Custom: 12021 }), 1).outcome).toBe("refused");
  });
});
