import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../env.ts";
import { ALERT_FILTERS, alertView, listAlerts } from "../../monitor/alert-list.ts";
import { acknowledgeAlert } from "../../monitor/alerts.ts";
import { systemStatus } from "../../monitor/status.ts";
import { requireScope } from "../auth.ts";
import { ok } from "../envelope.ts";
import { AppError } from "../errors.ts";
import { documentRoutes } from "../openapi.ts";
import { pubkeyParam, validate } from "../validation.ts";

const integer = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be between ${min} and ${max}`).max(max, `must be between ${min} and ${max}`))
    .default(fallback);

export const alertsQuery = z.strictObject({
  status: z.enum(ALERT_FILTERS).default("unresolved"),
  kind: z
    .string()
    .regex(/^[a-z_]{1,48}$/, "must be an alert kind such as low_balance")
    .optional(),
  owner: z.string().optional(),
  limit: integer(1, 200, 50),
  offset: integer(0, 1_000_000, 0),
});

/** GET /monitor/status (public); GET /monitor/alerts and POST /monitor/alerts/:id/ack (admin key). */
export const monitorRoutes = new Hono<AppEnv>()
  .get("/monitor/status", async (c) => ok(c, await systemStatus(c.env, c.get("services"))))
  .get("/monitor/alerts", requireScope("admin"), async (c) => {
    const q = validate(alertsQuery, c.req.query(), "query");
    const owner = q.owner === undefined ? undefined : pubkeyParam(q.owner, "owner").toBase58();
    return ok(c, {
      ...(await listAlerts(c.get("services").reads(), { ...q, owner })),
      limit: q.limit,
      offset: q.offset,
    });
  })
  .post("/monitor/alerts/:id/ack", requireScope("admin"), async (c) => {
    const raw = c.req.param("id");
    if (!/^[1-9]\d{0,18}$/.test(raw)) {
      throw new AppError("INVALID_ALERT_ID", "id must be a positive whole number", { field: "id" });
    }
    // Past Postgres's bigint no alert can exist (and the query would fail): found by the fuzz suite (issue 7).
    if (BigInt(raw) > 9223372036854775807n) throw new AppError("ALERT_NOT_FOUND", `No alert ${raw}`);
    const result = await acknowledgeAlert(c.get("services").db().db, BigInt(raw));
    if (!result.ok && result.reason === "not_found") throw new AppError("ALERT_NOT_FOUND", `No alert ${raw}`);
    if (!result.ok) throw new AppError("ALERT_ALREADY_RESOLVED", `Alert ${raw} is resolved; nothing to acknowledge`);
    c.get("services").log.info("alert acknowledged", { alertId: raw, apiKey: c.get("apiKeyName") });
    return ok(c, alertView(result.alert));
  });

documentRoutes([
  {
    method: "get",
    path: "/monitor/status",
    summary: "System status: each job's last run, ingestion lag, RPC and database health, open alerts, version",
    tag: "monitor",
    success: 200,
    errors: [],
  },
  {
    method: "get",
    path: "/monitor/alerts",
    summary: "Alerts, newest first (default: unresolved)",
    tag: "monitor",
    query: alertsQuery,
    scope: "admin",
    success: 200,
    errors: ["UNAUTHORIZED", "FORBIDDEN", "VALIDATION_FAILED", "INVALID_PUBKEY"],
  },
  {
    method: "post",
    path: "/monitor/alerts/{id}/ack",
    summary: "Acknowledge an alert (it keeps deduplicating until the condition clears)",
    tag: "monitor",
    scope: "admin",
    success: 200,
    errors: ["UNAUTHORIZED", "FORBIDDEN", "INVALID_ALERT_ID", "ALERT_NOT_FOUND", "ALERT_ALREADY_RESOLVED"],
  },
]);
