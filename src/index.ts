import { createApp } from "./api/app.ts";
import type { Bindings } from "./env.ts";
import { runScheduled } from "./jobs/dispatch.ts";

const app = createApp();

export { RpcBudget } from "./chain/rpc-budget.ts";
export { ChainStream } from "./ingest/chain-stream.ts";
export { Ingestor } from "./ingest/ingestor.ts";
export { Scheduler } from "./jobs/scheduler.ts";
export { Metrics } from "./platform/metrics/store.ts";
export { RateLimiter } from "./platform/rate-limiter.ts";
export { VaultOwnerHub } from "./realtime/owner-hub.ts";
export { PublishFanout } from "./realtime/publish-fanout.ts";

export default {
  fetch: app.fetch,
  scheduled: (controller, env, ctx) => runScheduled(controller, env, ctx),
} satisfies ExportedHandler<Bindings>;
