import { ComputeBudgetProgram, type PublicKey, Transaction, type TransactionInstruction } from "@solana/web3.js";
import { AppError } from "../api/errors.ts";
import { toBase64 } from "../chain/accounts.ts";
import { programErrorFromTransaction } from "../chain/program/index.ts";
import { RpcError, type SolanaRpc } from "../chain/rpc.ts";
import type { Config } from "../config.ts";
import type { Logger } from "../lib/log.ts";

export const LAMPORTS_PER_SIGNATURE = 5_000n;
const MAX_COMPUTE_UNITS = 1_400_000;
/** Used when simulation is unavailable (RPC down or rate-limited): generous measured ceilings, see README. */
export const FALLBACK_COMPUTE_UNITS = 200_000;

export interface PriorityFeeOptions {
  /** Exact compute-unit price in micro-lamports (overrides the percentile). */
  computeUnitPrice?: bigint;
  /** Percentile of recent fees to use instead of the configured one. */
  percentile?: number;
}

/** The compute-unit price: a percentile of `getRecentPrioritizationFees` over the writable accounts, capped. */
export async function computeUnitPrice(
  rpc: SolanaRpc,
  config: Config,
  writable: PublicKey[],
  opts: PriorityFeeOptions,
): Promise<bigint> {
  if (opts.computeUnitPrice !== undefined) return opts.computeUnitPrice;
  const fees = await rpc.call<{ slot: number; prioritizationFee: number }[]>("getRecentPrioritizationFees", [
    writable.slice(0, 128).map((k) => k.toBase58()),
  ]);
  const price = percentile(
    fees.map((f) => BigInt(f.prioritizationFee)),
    opts.percentile ?? config.priorityFeePercentile,
  );
  // biome-ignore lint/complexity/useMathMinMax: bigint values; Math.min would throw.
  return price > config.priorityFeeMaxMicroLamports ? config.priorityFeeMaxMicroLamports : price;
}

/** Nearest-rank percentile of a list of fees (0 for an empty list). */
export function percentile(values: bigint[], p: number): bigint {
  if (values.length === 0) return 0n;
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/**
 * Compute units the instructions need, by simulating them (signatures not checked, blockhash replaced), plus the
 * configured margin. A program failure in simulation is the user's answer: it is refused with the error's name.
 */
export async function computeUnitLimit(
  rpc: SolanaRpc,
  config: Config,
  log: Logger,
  feePayer: PublicKey,
  instructions: TransactionInstruction[],
): Promise<{ units: number; simulated: boolean }> {
  const tx = new Transaction({ feePayer, blockhash: "11111111111111111111111111111111", lastValidBlockHeight: 0 });
  tx.add(ComputeBudgetProgram.setComputeUnitLimit({ units: MAX_COMPUTE_UNITS }), ...instructions);
  const wire = tx.serialize({ requireAllSignatures: false, verifySignatures: false });
  let result: { err: unknown; logs: string[] | null; unitsConsumed?: number };
  try {
    ({ value: result } = await rpc.call<{ value: typeof result }>("simulateTransaction", [
      toBase64(wire),
      { encoding: "base64", sigVerify: false, replaceRecentBlockhash: true, commitment: "confirmed" },
    ]));
  } catch (err) {
    if (err instanceof RpcError) throw err;
    log.warn("simulation unavailable; using fallback compute-unit limit", { error: err });
    return { units: FALLBACK_COMPUTE_UNITS, simulated: false };
  }
  if (result.err) throw simulationFailure(result.err, result.logs ?? [], 1);
  const consumed = result.unitsConsumed ?? FALLBACK_COMPUTE_UNITS;
  const units = Math.min(
    MAX_COMPUTE_UNITS,
    Math.ceil((consumed * (100 + config.computeUnitMarginPercent)) / 100) + 300,
  );
  return { units, simulated: true };
}

/**
 * Turns a simulated failure into TRANSACTION_FAILED naming the program error. `offset` is the number of
 * instructions the caller prepended (compute budget), so the index refers to the caller's own list.
 */
export function simulationFailure(err: unknown, logs: string[], offset = 0): AppError {
  const failure = programErrorFromTransaction(err, logs);
  if (failure) {
    return new AppError(
      "TRANSACTION_FAILED",
      `The transaction would fail on chain: ${failure.name}${failure.code !== undefined ? ` (${failure.code})` : ""} — ${failure.message}`,
      {
        programError: failure.name,
        programErrorCode: failure.code ?? null,
        instructionIndex: failure.instructionIndex - offset,
        logs: logs.slice(-20),
      },
    );
  }
  return new AppError("TRANSACTION_FAILED", `The transaction would fail on chain: ${JSON.stringify(err)}`, {
    error: err,
    logs: logs.slice(-20),
  });
}

/** Base fee plus priority fee, in lamports, as the runtime charges it. */
export function estimateFee(signatures: number, units: number, microLamportsPerUnit: bigint): bigint {
  const priority = (BigInt(units) * microLamportsPerUnit + 999_999n) / 1_000_000n;
  return LAMPORTS_PER_SIGNATURE * BigInt(signatures) + priority;
}
