import { ComputeBudgetProgram, type PublicKey, Transaction, type TransactionInstruction } from "@solana/web3.js";
import { AppError } from "../api/errors.ts";
import { toBase64 } from "../chain/accounts.ts";
import type { Services } from "../env.ts";
import { formatSol } from "../lib/sol.ts";
import { computeUnitLimit, computeUnitPrice, estimateFee, type PriorityFeeOptions } from "./fees.ts";

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

/** Hex sha256 of a serialized message: the identity of a built request, whoever signs and submits it. */
export async function messageHash(message: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", message));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
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
  },
): Promise<AssembledTransaction> {
  const { rpc, config, log } = services;
  // Checked before simulating too: a payer that cannot pay even the base fee makes simulation fail obscurely.
  assertLamports(p.payerLamports, p.extraLamports, estimateFee(1, 0, 0n));
  const writable = [
    ...new Map(
      p.instructions.flatMap((ix) => ix.keys.filter((k) => k.isWritable).map((k) => [k.pubkey.toBase58(), k.pubkey])),
    ).values(),
  ];
  const [limit, price, latest] = await Promise.all([
    computeUnitLimit(rpc, config, log, p.feePayer, p.instructions),
    computeUnitPrice(rpc, config, writable, p.priority),
    rpc.call<{ value: { blockhash: string; lastValidBlockHeight: number } }>("getLatestBlockhash", [
      { commitment: "confirmed" },
    ]),
  ]);
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
