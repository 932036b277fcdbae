import type { Bindings } from "../env.ts";
import { ensureChainStream } from "../ingest/chain-stream.ts";
import { finalizePass } from "../ingest/finalize.ts";
import { INGESTED } from "../ingest/ingestor.ts";
import { ingestFromCursor } from "../ingest/pipeline.ts";
import type { Services } from "../platform/services.ts";
import { kickIngestor } from "../platform/stubs.ts";
import type { Job } from "./types.ts";

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
