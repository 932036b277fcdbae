import { type Context, Hono } from "hono";
import { z } from "zod";
import { TRANSFER_REASONS } from "../../chain/program/index.ts";
import type { AppEnv } from "../../env.ts";
import { planAdmin, planLockOrUnlock, planTransfer } from "../../vault/privileged-operations.ts";
import { recordRefusedBuild } from "../../vault/requests.ts";
import type { PlannedOperation } from "../../vault/user-operations.ts";
import { requireScope } from "../auth.ts";
import { AppError } from "../errors.ts";
import { idempotencyScope, idempotent } from "../idempotency.ts";
import { amountSchema, priorityFeeSchema, pubkeySchema, readJsonBody, validate } from "../validation.ts";
import { buildAndRecord } from "./vault-build.ts";

/** The exchange's position label: 1–64 printable ASCII characters (no control characters). */
export const positionIdSchema = z
  .string({ error: "positionId must be a string of 1-64 printable ASCII characters" })
  .regex(/^[\x20-\x7e]{1,64}$/, "positionId must be 1-64 printable ASCII characters");

export const lockBody = z.strictObject({
  authorityPubkey: pubkeySchema,
  userPubkey: pubkeySchema,
  amount: amountSchema,
  positionId: positionIdSchema.optional(),
  priorityFee: priorityFeeSchema,
});
export const transferBody = z.strictObject({
  authorityPubkey: pubkeySchema,
  fromOwner: pubkeySchema,
  toOwner: pubkeySchema,
  amount: amountSchema,
  reason: z.enum(TRANSFER_REASONS),
  priorityFee: priorityFeeSchema,
});
export const adminBody = z.strictObject({ adminPubkey: pubkeySchema, priorityFee: priorityFeeSchema });
export const programListBody = z.strictObject({
  adminPubkey: pubkeySchema,
  programId: pubkeySchema,
  priorityFee: priorityFeeSchema,
});
export const pauseBody = z.strictObject({
  adminPubkey: pubkeySchema,
  paused: z.boolean(),
  priorityFee: priorityFeeSchema,
});

/**
 * One privileged build: parse, plan, price, record — under Idempotency-Key, scoped to the API key — with an audit
 * entry naming the key (for the build, in the same database transaction as its request; for a refusal, with its
 * code).
 */
function builder<S extends z.ZodType>(
  route: string,
  schema: S,
  plan: (services: AppEnv["Variables"]["services"], body: z.output<S>) => Promise<PlannedOperation>,
) {
  return async (c: Context<AppEnv>) => {
    const { text, value } = await readJsonBody(c);
    const body = validate(schema, value);
    const apiKeyName = c.get("apiKeyName")!;
    return idempotent(c, idempotencyScope(route, `key:${apiKeyName}`), text, async () => {
      const services = c.get("services");
      const audit = { apiKeyName, action: route, requestId: c.get("requestId") ?? null };
      const priority = (body as { priorityFee?: z.output<typeof priorityFeeSchema> }).priorityFee;
      try {
        return { status: 200, data: await buildAndRecord(services, await plan(services, body), priority, audit) };
      } catch (err) {
        if (err instanceof AppError) {
          await recordRefusedBuild(services.db().db, audit, err.code, auditedBody(value)).catch((e) =>
            services.log.error("audit entry not written", { action: route, error: e }),
          );
        }
        throw err;
      }
    });
  };
}

/** What an audit entry keeps of a refused request: its public fields (keys, amount, flags; never headers). */
function auditedBody(value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof value !== "object" || value === null) return { request: out };
  for (const [k, v] of Object.entries(value)) {
    if (AUDITED_FIELDS.has(k) && (typeof v === "string" || typeof v === "number" || typeof v === "boolean")) {
      out[k] = typeof v === "string" ? v.slice(0, 64) : v;
    }
  }
  return { request: out };
}

const AUDITED_FIELDS = new Set([
  "authorityPubkey",
  "userPubkey",
  "fromOwner",
  "toOwner",
  "amount",
  "reason",
  "adminPubkey",
  "programId",
  "paused",
  "positionId",
]);

/** Unsigned builders for the exchange's services (`service` scope) and operators (`admin` scope). */
export const privileged = new Hono<AppEnv>()
  .use("/vault/lock", requireScope("service"))
  .use("/vault/unlock", requireScope("service"))
  .use("/vault/transfer", requireScope("service"))
  .use("/admin/*", requireScope("admin"))
  .post(
    "/vault/lock",
    builder("vault.lock", lockBody, async (s, b) => ({
      ...(await planLockOrUnlock(s, {
        kind: "lock",
        authority: b.authorityPubkey,
        owner: b.userPubkey,
        amount: b.amount,
      })),
      positionId: b.positionId ?? null,
    })),
  )
  .post(
    "/vault/unlock",
    builder("vault.unlock", lockBody, async (s, b) => ({
      ...(await planLockOrUnlock(s, {
        kind: "unlock",
        authority: b.authorityPubkey,
        owner: b.userPubkey,
        amount: b.amount,
      })),
      positionId: b.positionId ?? null,
    })),
  )
  .post(
    "/vault/transfer",
    builder("vault.transfer", transferBody, (s, b) =>
      planTransfer(s, {
        authority: b.authorityPubkey,
        from: b.fromOwner,
        to: b.toOwner,
        amount: b.amount,
        reason: b.reason,
      }),
    ),
  )
  .post(
    "/admin/authority/initialize",
    builder("admin.initialize", adminBody, (s, b) =>
      planAdmin(s, { kind: "initialize_authority", admin: b.adminPubkey }),
    ),
  )
  .post(
    "/admin/authority/programs/add",
    builder("admin.add", programListBody, (s, b) =>
      planAdmin(s, { kind: "add_authorized_program", admin: b.adminPubkey, program: b.programId }),
    ),
  )
  .post(
    "/admin/authority/programs/remove",
    builder("admin.remove", programListBody, (s, b) =>
      planAdmin(s, { kind: "remove_authorized_program", admin: b.adminPubkey, program: b.programId }),
    ),
  )
  .post(
    "/admin/pause",
    builder("admin.pause", pauseBody, (s, b) =>
      planAdmin(s, { kind: "set_paused", admin: b.adminPubkey, paused: b.paused }),
    ),
  );
