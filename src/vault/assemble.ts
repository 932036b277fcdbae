import { ComputeBudgetProgram, type PublicKey, Transaction, type TransactionInstruction } from "@solana/web3.js";
import { toBase64 } from "../chain/accounts.ts";
import { messageHash } from "../chain/message-hash.ts";
import { AppError } from "../lib/errors.ts";
import { formatSol } from "../lib/sol.ts";
import type { Services } from "../platform/services.ts";
import { computeUnitLimit, computeUnitPrice, estimateFee, type PriorityFeeOptions } from "./fees.ts";
import { sameInstructions } from "./instruction-equality.ts";

/** An unsigned transaction ready for the fee payer's wallet, with what a wallet integration needs. */
export interface AssembledTransaction {
  unsignedTransaction: string;
  messageHash: string;
  recentBlockhash: string;
  lastValidBlockHeight: bigint;
  computeUnitLimit: number;
  computeUnitPrice: bigint;
  estimatedFeeLamports: bigint;
  computeUnitsSimulated: boolean;
}

/**
 * Prices and assembles `instructions` for `feePayer`: compute-unit limit from simulation (+margin), price from
 * recent prioritization fees, a fresh blockhash. Refuses with INSUFFICIENT_SOL when the payer cannot cover
 * `extraLamports` (rent of accounts the transaction creates) plus the fee.
 */
export async function assembleTransaction(
  services: Services,
  p: {
    feePayer: PublicKey;
    payerLamports: bigint;
    extraLamports: bigint;
    instructions: TransactionInstruction[];
    priority: PriorityFeeOptions;
    /** Pricing started alongside the chain view for the instructions the build expected (see prefetchAssembly). */
    prefetched?: Prefetched;
  },
): Promise<AssembledTransaction> {
  // Checked before simulating too: a payer that cannot pay even the base fee makes simulation fail obscurely.
  assertLamports(p.payerLamports, p.extraLamports, estimateFee(1, 0, 0n));
  // The prefetched pricing is used only when the plan kept the expected instructions; else one more round trip.
  const usable = p.prefetched && sameInstructions(p.prefetched.instructions, p.instructions) ? p.prefetched : null;
  const pricing = usable ?? startPricing(services, p.feePayer, p.instructions, p.priority);
  const [limit, price, latest] = await Promise.all([pricing.limit, pricing.price, pricing.latest]);
  const fee = estimateFee(1, limit.units, price);
  assertLamports(p.payerLamports, p.extraLamports, fee);
  const tx = new Transaction({
    feePayer: p.feePayer,
    blockhash: latest.value.blockhash,
    lastValidBlockHeight: latest.value.lastValidBlockHeight,
  });
  tx.add(
    ComputeBudgetProgram.setComputeUnitLimit({ units: limit.units }),
    ComputeBudgetProgram.setComputeUnitPrice({ microLamports: price }),
    ...p.instructions,
  );
  const message = tx.serializeMessage();
  return {
    unsignedTransaction: toBase64(tx.serialize({ requireAllSignatures: false, verifySignatures: false })),
    messageHash: await messageHash(message),
    recentBlockhash: latest.value.blockhash,
    lastValidBlockHeight: BigInt(latest.value.lastValidBlockHeight),
    computeUnitLimit: limit.units,
    computeUnitPrice: price,
    estimatedFeeLamports: fee,
    computeUnitsSimulated: limit.simulated,
  };
}

/** The pricing of one instruction list, in flight: compute units by simulation, the fee price, a blockhash. */
export interface Prefetched {
  instructions: TransactionInstruction[];
  limit: Promise<{ units: number; simulated: boolean }>;
  price: Promise<bigint>;
  latest: Promise<{ value: { blockhash: string; lastValidBlockHeight: number } }>;
}

function startPricing(
  services: Services,
  feePayer: PublicKey,
  instructions: TransactionInstruction[],
  priority: PriorityFeeOptions,
): Prefetched {
  const { rpc, config, log } = services;
  const writable = [
    ...new Map(
      instructions.flatMap((ix) => ix.keys.filter((k) => k.isWritable).map((k) => [k.pubkey.toBase58(), k.pubkey])),
    ).values(),
  ];
  return {
    instructions,
    limit: computeUnitLimit(rpc, config, log, feePayer, instructions),
    price: computeUnitPrice(rpc, config, writable, priority),
    latest: rpc.call<{ value: { blockhash: string; lastValidBlockHeight: number } }>("getLatestBlockhash", [
      { commitment: "confirmed" },
    ]),
  };
}

/**
 * Starts pricing the instructions a build expects (what its plan produces in the common case) at the same time as
 * the plan reads the chain, so a build costs one RPC round trip instead of two: the chain view, the simulation, the
 * fee estimate and the blockhash are all in flight together. When the plan ends with other instructions (e.g. the
 * user's token account is missing and must be created) the prefetch is dropped and assembly prices afresh; when the
 * plan refuses the request, the prefetch is simply abandoned (its failures are swallowed here, not reported).
 */
export function prefetchAssembly(
  services: Services,
  feePayer: PublicKey,
  instructions: TransactionInstruction[],
  priority: PriorityFeeOptions,
): Prefetched {
  const p = startPricing(services, feePayer, instructions, priority);
  for (const promise of [p.limit, p.price, p.latest]) promise.catch(() => {});
  return p;
}

/** INSUFFICIENT_SOL unless the payer covers rent plus fee. */
function assertLamports(available: bigint, rent: bigint, fee: bigint): void {
  const needed = rent + fee;
  if (available >= needed) return;
  throw new AppError(
    "INSUFFICIENT_SOL",
    `The fee payer has ${formatSol(available)} but needs ${formatSol(needed)} (rent ${formatSol(rent)} + fee ${formatSol(fee)})`,
    { requiredLamports: needed.toString(), availableLamports: available.toString() },
  );
}
