import { Hono } from "hono";
import { z } from "zod";
import { TRANSFER_REASONS } from "../../chain/program/index.ts";
import type { AppEnv } from "../../env.ts";
import { planAdmin, planLockOrUnlock, planTransfer } from "../../vault/privileged-operations.ts";
import type { PlannedOperation } from "../../vault/user-operations.ts";
import { requireScope } from "../auth.ts";
import { idempotent } from "../idempotency.ts";
import { amountSchema, priorityFeeSchema, pubkeySchema, readJsonBody, validate } from "../validation.ts";
import { buildAndRecord } from "./vault-build.ts";

export const lockBody = z.strictObject({
  authorityPubkey: pubkeySchema,
  userPubkey: pubkeySchema,
  amount: amountSchema,
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

/** One privileged build: parse, plan, price, record — under Idempotency-Key, scoped to the API key. */
function builder<S extends z.ZodType>(
  route: string,
  schema: S,
  plan: (services: AppEnv["Variables"]["services"], body: z.output<S>) => Promise<PlannedOperation>,
) {
  return async (c: import("hono").Context<AppEnv>) => {
    const { text, value } = await readJsonBody(c);
    const body = validate(schema, value);
    return idempotent(c, `${route}:${c.get("apiKeyName")}`, text, async () => {
      const services = c.get("services");
      const priority = (body as { priorityFee?: z.output<typeof priorityFeeSchema> }).priorityFee;
      return { status: 200, data: await buildAndRecord(services, await plan(services, body), priority) };
    });
  };
}

/** Unsigned builders for the exchange's services (`service` scope) and operators (`admin` scope). */
export const privileged = new Hono<AppEnv>()
  .use("/vault/lock", requireScope("service"))
  .use("/vault/unlock", requireScope("service"))
  .use("/vault/transfer", requireScope("service"))
  .use("/admin/*", requireScope("admin"))
  .post(
    "/vault/lock",
    builder("vault.lock", lockBody, (s, b) =>
      planLockOrUnlock(s, { kind: "lock", authority: b.authorityPubkey, owner: b.userPubkey, amount: b.amount }),
    ),
  )
  .post(
    "/vault/unlock",
    builder("vault.unlock", lockBody, (s, b) =>
      planLockOrUnlock(s, { kind: "unlock", authority: b.authorityPubkey, owner: b.userPubkey, amount: b.amount }),
    ),
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
