import { renderMetrics } from "../../monitor/metrics/report.ts";
import { CONTENT_TYPE } from "../../platform/metrics/prometheus.ts";
import { defineOperation } from "../operation.ts";

export default defineOperation({
  method: "get",
  path: "/metrics",
  summary:
    "Prometheus metrics (text format 0.0.4): builds and relays by outcome, ingested transactions, ingestion lag, job runs and durations, RPC requests / items / 429s by method, open sockets, alerts by severity, alert deliveries",
  tag: "monitor",
  scope: "admin",
  success: {
    status: 200,
    contentType: "text/plain",
    description: `Prometheus text exposition format (${CONTENT_TYPE})`,
  },
  errors: [],
  handler: async (c) => c.body(await renderMetrics(c.env, c.get("services")), 200, { "content-type": CONTENT_TYPE }),
});
