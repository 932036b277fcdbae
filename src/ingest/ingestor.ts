import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../config.ts";
import type { Bindings } from "../env.ts";
import { describeError } from "../lib/log.ts";
import { type JobRunRecord, recordJobRun } from "../platform/runs.ts";
import { backgroundServices } from "../platform/services.ts";
import { isRetiredSingleton, retireSingleton } from "../platform/singletons.ts";
import { INGESTOR } from "../platform/stubs.ts";
import { finalizePass } from "./finalize.ts";
import { ingestFromCursor } from "./pipeline.ts";

/**
 * The singleton that drives ingestion: its alarm runs a pass (new transactions, then finalization) and re-arms
 * itself every `INGEST_INTERVAL_MS`. The cron re-arms it (`kick`) in case it ever stops, and runs a pass itself,
 * so no single trigger is load-bearing; concurrent passes are safe (see store.ts).
 */
export class Ingestor extends DurableObject<Bindings> {
  /** RPC: arms the alarm loop when it is not armed; says when the next pass runs. */
  async kick(): Promise<{ next: number }> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null) await this.ctx.storage.setAlarm(Date.now());
    return { next: current ?? Date.now() };
  }

  /** When this instance last wrote a pass to `job_runs` (idle passes are recorded once a minute, not each second). */
  private lastRecorded = 0;

  override async alarm(): Promise<void> {
    if (isRetiredSingleton(this.ctx, loadConfig(this.env), INGESTOR)) return retireSingleton(this.ctx);
    const services = backgroundServices(this.env, { durableObject: "Ingestor" }, "ingest");
    let behind = false;
    const startedAt = new Date();
    let run: Pick<JobRunRecord, "outcome" | "figures" | "error"> | null = null;
    try {
      const figures = await ingestFromCursor(this.env, services);
      services.metrics.count(INGESTED, { path: "poll" }, figures.committed);
      // More than one walk behind: the next stretch comes at once instead of after the interval.
      behind = (figures.pendingSegments ?? 0) > 0;
      const finalized = await finalizePass(this.env, services);
      if (figures.committed > 0 || finalized > 0) services.log.info("ingestion pass", { ...figures, finalized });
      const { phases: _phases, ...rest } = figures;
      const busy = figures.committed > 0 || finalized > 0 || behind;
      if (busy || Date.now() - this.lastRecorded >= IDLE_RECORD_MS) {
        run = { outcome: figures.complete ? "ok" : "partial", figures: { ...rest, finalized }, error: null };
      }
    } catch (err) {
      services.log.warn("ingestion pass failed; retrying on the next tick", { error: err });
      const { name, message } = describeError(err);
      run = { outcome: "error", figures: null, error: `${name}: ${message}` };
    } finally {
      if (run) {
        // The pass is a job run like the others (the status page and the dashboard read `job_runs`).
        this.lastRecorded = Date.now();
        await recordJobRun(services.db().db, {
          job: "ingest",
          trigger: "ingestor",
          startedAt,
          durationMs: Date.now() - startedAt.getTime(),
          ...run,
        }).catch((err) => services.log.warn("ingestion pass not recorded", { error: err }));
      }
      await services.close();
      // Re-armed even after a failure: the loop must outlive any one bad pass.
      await this.ctx.storage.setAlarm(Date.now() + (behind ? 0 : services.config.ingestIntervalMs));
    }
  }
}

/** Idle passes (nothing committed or finalized) are written to `job_runs` at most this often. */
const IDLE_RECORD_MS = 60_000;
/** Program transactions committed, by the path that committed them (poll loop, cron backstop, webhook). */
export const INGESTED = "vault_ingested_transactions_total";
