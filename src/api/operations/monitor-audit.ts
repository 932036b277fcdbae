import { z } from "zod";
import { listAudit } from "../../monitor/audit.ts";
import { ok } from "../envelope.ts";
import { defineOperation } from "../operation.ts";
import { auditData } from "../responses.ts";
import { pageInteger } from "../validation.ts";

export default defineOperation({
  method: "get",
  path: "/monitor/audit",
  summary:
    "Audit trail, newest first: every privileged build (and refusal) and every alert acknowledgement, with the API key's name (never the key)",
  tag: "monitor",
  scope: "admin",
  query: z.strictObject({
    apiKey: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be an API key name")
      .optional()
      .meta({ description: "Only this key's entries (by name)" }),
    action: z
      .string()
      .regex(/^[a-z_.]{1,48}$/, "must be an action such as vault.lock or alert.ack")
      .optional(),
    limit: pageInteger("page size", 1, 200, 50),
    offset: pageInteger("rows to skip", 0, 1_000_000, 0),
  }),
  success: { status: 200, data: auditData },
  errors: ["VALIDATION_FAILED"],
  handler: async (c, { query }) =>
    ok(c, { ...(await listAudit(c.get("services").reads(), query)), limit: query.limit, offset: query.offset }),
});
