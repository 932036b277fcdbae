import { z } from "zod";
import { ALERT_FILTERS, listAlerts } from "../../monitor/alert-list.ts";
import { ok } from "../envelope.ts";
import { defineOperation } from "../operation.ts";
import { alertsData } from "../responses.ts";
import { pageInteger, pubkeySchema } from "../validation.ts";

export default defineOperation({
  method: "get",
  path: "/monitor/alerts",
  summary: "Alerts, newest first (default: unresolved)",
  tag: "monitor",
  scope: "admin",
  query: z.strictObject({
    status: z.enum(ALERT_FILTERS).default("unresolved"),
    kind: z
      .string()
      .regex(/^[a-z_]{1,48}$/, "must be an alert kind such as low_balance")
      .optional(),
    owner: pubkeySchema.optional(),
    limit: pageInteger("page size", 1, 200, 50),
    offset: pageInteger("rows to skip", 0, 1_000_000, 0),
  }),
  success: { status: 200, data: alertsData },
  errors: ["VALIDATION_FAILED", "INVALID_PUBKEY"],
  handler: async (c, { query }) => {
    const owner = query.owner?.toBase58();
    const found = await listAlerts(c.get("services").reads(), { ...query, owner });
    return ok(c, { ...found, limit: query.limit, offset: query.offset });
  },
});
