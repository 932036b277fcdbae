import type { Bindings, Services } from "../env.ts";
import type { Job } from "../jobs/types.ts";
import { ensureChainStream } from "./chain-stream.ts";
import { finalizePass } from "./finalize.ts";
import { INGESTED, kickIngestor } from "./ingestor.ts";
import { ingestFromCursor } from "./pipeline.ts";

/**
 * Cron backstop: re-arms the Ingestor's alarm loop and the push path (ChainStream), and runs one pass itself (passes
 * may overlap safely).
 */
export const ingestJob: Job = {
  name: "ingest",
  rpcPriority: "ingest",
  async run(env: Bindings, _ctx, services: Services) {
    await kickIngestor(env).catch((err) => services.log.warn("could not kick the ingestor", { error: err }));
    // The push path restarts here after an eviction or a deploy (its own heartbeat keeps it up in between).
    await ensureChainStream(env);
    const figures = await ingestFromCursor(env, services);
    services.metrics.count(INGESTED, { path: "cron" }, figures.committed);
    const finalized = await finalizePass(env, services);
    // Recorded even when idle (once a minute): the status page shows when ingestion last ran, not "never".
    const { phases: _phases, ...rest } = figures;
    return { ...rest, finalized, partial: !figures.complete };
  },
};
