import type { PublicKey } from "@solana/web3.js";
import type { Context } from "hono";
import { z } from "zod";
import type { ErrorCode } from "../lib/errors.ts";
import type { Services } from "../platform/services.ts";
import { assembleTransaction, type Prefetched, prefetchAssembly } from "../vault/assemble.ts";
import type { PriorityFeeOptions } from "../vault/fees.ts";
import { type BuildAudit, recordBuiltRequest } from "../vault/requests.ts";
import {
  expectedInstructions,
  type PlannedOperation,
  planDeposit,
  planInitialize,
  planWithdraw,
} from "../vault/user-operations.ts";
import type { AppEnv } from "./app-env.ts";
import { idempotencyScope, idempotent } from "./idempotency.ts";
import { BODY_ERRORS } from "./operation.ts";
import { amountSchema, priorityFeeSchema, pubkeySchema } from "./validation.ts";

export const initializeBody = z.strictObject({ userPubkey: pubkeySchema, priorityFee: priorityFeeSchema });
export const amountBody = z.strictObject({
  userPubkey: pubkeySchema,
  amount: amountSchema,
  priorityFee: priorityFeeSchema,
});

type PriorityInput = z.output<typeof priorityFeeSchema>;

function priorityOptions(input: PriorityInput): PriorityFeeOptions {
  return { computeUnitPrice: input?.computeUnitPrice, percentile: input?.percentile };
}

/** Prices, assembles and records a planned operation (with its audit entry when a privileged key asked for it). */
export async function buildAndRecord(
  services: Services,
  plan: PlannedOperation,
  priority: PriorityInput,
  audit?: BuildAudit,
  prefetched?: Prefetched,
) {
  const built = await assembleTransaction(services, {
    feePayer: plan.feePayer,
    payerLamports: plan.payerLamports,
    extraLamports: plan.extraLamports,
    instructions: plan.instructions,
    priority: priorityOptions(priority),
    prefetched,
  });
  return recordBuiltRequest(services.db().db, plan, built, services.config.programId, audit);
}

/**
 * Pricing of the build's expected instructions, started before its plan reads the chain (one round trip in all;
 * assemble.ts prefetchAssembly). An amount of 0 is refused by the plan, so nothing is priced for it.
 */
function prefetchUser(
  services: Services,
  kind: "initialize" | "deposit" | "withdrawal",
  owner: PublicKey,
  amount: bigint,
  priority: PriorityInput,
): Prefetched | undefined {
  if (kind !== "initialize" && amount === 0n) return undefined;
  return prefetchAssembly(
    services,
    owner,
    expectedInstructions(services.config, kind, owner, amount),
    priorityOptions(priority),
  );
}

/**
 * One user build (POST /vault/initialize, /vault/deposit, /vault/withdraw): under Idempotency-Key, scoped to the
 * owner; prices while the plan reads the chain, then records the request.
 */
export function userBuild(
  c: Context<AppEnv>,
  kind: "initialize" | "deposit" | "withdrawal",
  body: { userPubkey: PublicKey; amount?: bigint; priorityFee?: PriorityInput },
  bodyText: string,
): Promise<Response> {
  const route = kind === "initialize" ? "vault.initialize" : kind === "deposit" ? "vault.deposit" : "vault.withdraw";
  return idempotent(c, idempotencyScope(route, body.userPubkey.toBase58()), bodyText, async () => {
    const services = c.get("services");
    const amount = body.amount ?? 0n;
    const pre = prefetchUser(services, kind, body.userPubkey, amount, body.priorityFee);
    const plan =
      kind === "initialize"
        ? await planInitialize(services, body.userPubkey)
        : kind === "deposit"
          ? await planDeposit(services, body.userPubkey, amount)
          : await planWithdraw(services, body.userPubkey, amount);
    return { status: 200, data: await buildAndRecord(services, plan, body.priorityFee, undefined, pre) };
  });
}

/** Errors of every build besides the body's: keys, amounts, the fee payer's SOL, a failing simulation. */
export const BUILD_ERRORS: readonly ErrorCode[] = [
  ...BODY_ERRORS,
  "INVALID_PUBKEY",
  "INVALID_AMOUNT",
  "INSUFFICIENT_SOL",
  "TRANSACTION_FAILED",
];
