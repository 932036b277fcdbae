import type { Context } from "hono";
import { z } from "zod";
import { TRANSFER_REASONS } from "../chain/program/index.ts";
import { AppError, type ErrorCode } from "../lib/errors.ts";
import type { Services } from "../platform/services.ts";
import { planLockOrUnlock } from "../vault/privileged-operations.ts";
import { recordRefusedBuild } from "../vault/requests.ts";
import type { PlannedOperation } from "../vault/user-operations.ts";
import type { AppEnv } from "./app-env.ts";
import { BUILD_ERRORS, buildAndRecord } from "./builds.ts";
import { idempotencyScope, idempotent } from "./idempotency.ts";
import { amountSchema, priorityFeeSchema, pubkeySchema } from "./validation.ts";

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
 * One privileged build: plan, price, record — under Idempotency-Key, scoped to the API key — with an audit entry
 * naming the key (for the build, in the same database transaction as its request; for a refusal, with its code).
 */
export function privilegedBuild<B extends { priorityFee?: z.output<typeof priorityFeeSchema> }>(
  c: Context<AppEnv>,
  route: string,
  body: B,
  bodyText: string,
  plan: (services: Services, body: B) => Promise<PlannedOperation>,
): Promise<Response> {
  const apiKeyName = c.get("apiKeyName")!;
  return idempotent(c, idempotencyScope(route, `key:${apiKeyName}`), bodyText, async () => {
    const services = c.get("services");
    const audit = { apiKeyName, action: route, requestId: c.get("requestId") ?? null };
    try {
      return { status: 200, data: await buildAndRecord(services, await plan(services, body), body.priorityFee, audit) };
    } catch (err) {
      if (err instanceof AppError) {
        await recordRefusedBuild(services.db().db, audit, err.code, auditedBody(bodyText)).catch((e) =>
          services.log.error("audit entry not written", { action: route, error: e }),
        );
      }
      throw err;
    }
  });
}

/** Errors of every privileged build: a build's, the key's, and a missing vault authority. */
export const PRIVILEGED_ERRORS: readonly ErrorCode[] = [
  ...BUILD_ERRORS,
  "UNAUTHORIZED",
  "FORBIDDEN",
  "VAULT_AUTHORITY_MISSING",
];

/** Lock and unlock share a body and a plan. */
export const lockOrUnlock = (kind: "lock" | "unlock") => async (s: Services, b: z.output<typeof lockBody>) => ({
  ...(await planLockOrUnlock(s, { kind, authority: b.authorityPubkey, owner: b.userPubkey, amount: b.amount })),
  positionId: b.positionId ?? null,
});

/** What an audit entry keeps of a refused request: its public fields (keys, amount, flags; never headers). */
function auditedBody(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const value: unknown = JSON.parse(text);
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
