import type { PublicKey } from "@solana/web3.js";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv, Services } from "../../env.ts";
import { assembleTransaction, type Prefetched, prefetchAssembly } from "../../vault/assemble.ts";
import type { PriorityFeeOptions } from "../../vault/fees.ts";
import { type BuildAudit, recordBuiltRequest } from "../../vault/requests.ts";
import {
  expectedInstructions,
  type PlannedOperation,
  planDeposit,
  planInitialize,
  planWithdraw,
} from "../../vault/user-operations.ts";
import { idempotencyScope, idempotent } from "../idempotency.ts";
import { amountSchema, priorityFeeSchema, pubkeySchema, readJsonBody, validate } from "../validation.ts";

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

/** POST /vault/initialize, /vault/deposit, /vault/withdraw: unsigned transactions for the user's wallet. */
export const vaultBuild = new Hono<AppEnv>()
  .post("/vault/initialize", async (c) => {
    const { text, value } = await readJsonBody(c);
    const body = validate(initializeBody, value);
    return idempotent(c, idempotencyScope("vault.initialize", body.userPubkey.toBase58()), text, async () => {
      const services = c.get("services");
      const pre = prefetchUser(services, "initialize", body.userPubkey, 0n, body.priorityFee);
      const plan = await planInitialize(services, body.userPubkey);
      return { status: 200, data: await buildAndRecord(services, plan, body.priorityFee, undefined, pre) };
    });
  })
  .post("/vault/deposit", async (c) => {
    const { text, value } = await readJsonBody(c);
    const body = validate(amountBody, value);
    return idempotent(c, idempotencyScope("vault.deposit", body.userPubkey.toBase58()), text, async () => {
      const services = c.get("services");
      const pre = prefetchUser(services, "deposit", body.userPubkey, body.amount, body.priorityFee);
      const plan = await planDeposit(services, body.userPubkey, body.amount);
      return { status: 200, data: await buildAndRecord(services, plan, body.priorityFee, undefined, pre) };
    });
  })
  .post("/vault/withdraw", async (c) => {
    const { text, value } = await readJsonBody(c);
    const body = validate(amountBody, value);
    return idempotent(c, idempotencyScope("vault.withdraw", body.userPubkey.toBase58()), text, async () => {
      const services = c.get("services");
      const pre = prefetchUser(services, "withdrawal", body.userPubkey, body.amount, body.priorityFee);
      const plan = await planWithdraw(services, body.userPubkey, body.amount);
      return { status: 200, data: await buildAndRecord(services, plan, body.priorityFee, undefined, pre) };
    });
  });
