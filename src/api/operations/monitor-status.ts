import { systemStatus } from "../../monitor/status.ts";
import { ok } from "../envelope.ts";
import { defineOperation } from "../operation.ts";
import { statusData } from "../responses.ts";

export default defineOperation({
  method: "get",
  path: "/monitor/status",
  summary: "System status: each job's last run, ingestion lag, RPC and database health, open alerts, version",
  tag: "monitor",
  success: { status: 200, data: statusData },
  errors: [],
  handler: async (c) => ok(c, await systemStatus(c.env, c.get("services"))),
});
