import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../env.ts";
import { ALERT_FILTERS, alertView, listAlerts } from "../../monitor/alert-list.ts";
import { acknowledgeAlert } from "../../monitor/alerts.ts";
import { listAudit } from "../../monitor/audit.ts";
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

export const auditQuery = z.strictObject({
  apiKey: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be an API key name")
    .optional()
    .meta({ description: "Only this key's entries (by name)" }),
  action: z
    .string()
    .regex(/^[a-z_.]{1,48}$/, "must be an action such as vault.lock or alert.ack")
    .optional(),
  limit: integer(1, 200, 50),
  offset: integer(0, 1_000_000, 0),
});

/**
 * GET /monitor/status (public); GET /monitor/alerts, POST /monitor/alerts/:id/ack and GET /monitor/audit (admin
 * key).
 */
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
    const result = await acknowledgeAlert(c.get("services").db().db, BigInt(raw), {
      apiKeyName: c.get("apiKeyName")!,
      requestId: c.get("requestId") ?? null,
    });
    if (!result.ok && result.reason === "not_found") throw new AppError("ALERT_NOT_FOUND", `No alert ${raw}`);
    if (!result.ok) throw new AppError("ALERT_ALREADY_RESOLVED", `Alert ${raw} is resolved; nothing to acknowledge`);
    c.get("services").log.info("alert acknowledged", { alertId: raw, apiKey: c.get("apiKeyName") });
    return ok(c, alertView(result.alert));
  })
  .get("/monitor/audit", requireScope("admin"), async (c) => {
    const q = validate(auditQuery, c.req.query(), "query");
    return ok(c, { ...(await listAudit(c.get("services").reads(), q)), limit: q.limit, offset: q.offset });
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
    summary:
      "Acknowledge an alert (it keeps deduplicating until the condition clears); the key's name is stored on the alert (acknowledgedBy) and in the audit trail",
    tag: "monitor",
    scope: "admin",
    success: 200,
    errors: ["UNAUTHORIZED", "FORBIDDEN", "INVALID_ALERT_ID", "ALERT_NOT_FOUND", "ALERT_ALREADY_RESOLVED"],
  },
  {
    method: "get",
    path: "/monitor/audit",
    summary:
      "Audit trail, newest first: every privileged build (and refusal) and every alert acknowledgement, with the API key's name (never the key)",
    tag: "monitor",
    query: auditQuery,
    scope: "admin",
    success: 200,
    errors: ["UNAUTHORIZED", "FORBIDDEN", "VALIDATION_FAILED"],
  },
]);
