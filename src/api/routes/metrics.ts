import { Hono } from "hono";
import type { AppEnv } from "../../env.ts";
import { CONTENT_TYPE } from "../../monitor/metrics/prometheus.ts";
import { renderMetrics } from "../../monitor/metrics/report.ts";
import { requireScope } from "../auth.ts";
import { documentRoutes } from "../openapi.ts";

/** GET /metrics (admin key): Prometheus text format, for a scraper holding an admin key. */
export const metricsRoutes = new Hono<AppEnv>().get("/metrics", requireScope("admin"), async (c) =>
  c.body(await renderMetrics(c.env, c.get("services")), 200, { "content-type": CONTENT_TYPE }),
);

documentRoutes([
  {
    method: "get",
    path: "/metrics",
    summary:
      "Prometheus metrics (text format 0.0.4): builds and relays by outcome, ingested transactions, ingestion lag, job runs and durations, RPC requests / items / 429s by method, open sockets, alerts by severity, alert deliveries",
    tag: "monitor",
    scope: "admin",
    success: 200,
    successContentType: "text/plain",
    errors: ["UNAUTHORIZED", "FORBIDDEN"],
  },
]);
