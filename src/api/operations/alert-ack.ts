import { z } from "zod";
import { AppError } from "../../lib/errors.ts";
import { alertView } from "../../monitor/alert-list.ts";
import { acknowledgeAlert } from "../../platform/alerts.ts";
import { ok } from "../envelope.ts";
import { defineOperation } from "../operation.ts";
import { alertData } from "../responses.ts";

const alertId = z.string().refine((raw) => /^[1-9]\d{0,18}$/.test(raw), {
  message: "must be a positive whole number",
  params: { apiCode: "INVALID_ALERT_ID" },
});

export default defineOperation({
  method: "post",
  path: "/monitor/alerts/{id}/ack",
  summary:
    "Acknowledge an alert (it keeps deduplicating until the condition clears); the key's name is stored on the alert (acknowledgedBy) and in the audit trail",
  tag: "monitor",
  scope: "admin",
  params: z.object({ id: alertId }),
  success: { status: 200, data: alertData },
  errors: ["INVALID_ALERT_ID", "ALERT_NOT_FOUND", "ALERT_ALREADY_RESOLVED"],
  handler: async (c, { params: { id } }) => {
    // Past Postgres's bigint no alert can exist (and the query would fail): found by the fuzz suite (issue 7).
    if (BigInt(id) > 9223372036854775807n) throw new AppError("ALERT_NOT_FOUND", `No alert ${id}`);
    const result = await acknowledgeAlert(c.get("services").db().db, BigInt(id), {
      apiKeyName: c.get("apiKeyName")!,
      requestId: c.get("requestId") ?? null,
    });
    if (!result.ok && result.reason === "not_found") throw new AppError("ALERT_NOT_FOUND", `No alert ${id}`);
    if (!result.ok) throw new AppError("ALERT_ALREADY_RESOLVED", `Alert ${id} is resolved; nothing to acknowledge`);
    c.get("services").log.info("alert acknowledged", { alertId: id, apiKey: c.get("apiKeyName") });
    return ok(c, alertView(result.alert));
  },
});
