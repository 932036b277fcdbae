import { ComputeBudgetProgram, type PublicKey, Transaction, type TransactionInstruction } from "@solana/web3.js";
import { toBase64 } from "../chain/accounts.ts";
import { programErrorFromTransaction } from "../chain/program/index.ts";
import { RpcError, type SolanaRpc } from "../chain/rpc.ts";
import type { Config } from "../config.ts";
import { AppError } from "../lib/errors.ts";
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

/** Writable accounts priced at most per build (a batch item each; vault instructions write far fewer). */
const MAX_PRICED_ACCOUNTS = 16;

/**
 * The compute-unit price. A transaction pays for the most contended account it writes, so the price is the highest
 * of per-account percentiles: `getRecentPrioritizationFees` asked once per writable account (one JSON-RPC batch),
 * the configured percentile of each account's recent fees, the maximum over accounts — not one percentile over
 * fees filtered by *all* the accounts, which is about 0 on mainnet. With PRIORITY_FEE_ESTIMATOR=helius the
 * provider's `getPriorityFeeEstimate` answers instead (the per-account way when it fails). Then the floor, then the cap.
 */
export async function computeUnitPrice(
  rpc: SolanaRpc,
  config: Config,
  writable: PublicKey[],
  opts: PriorityFeeOptions,
): Promise<bigint> {
  if (opts.computeUnitPrice !== undefined) return opts.computeUnitPrice;
  const p = opts.percentile ?? config.priorityFeePercentile;
  const accounts = writable.slice(0, MAX_PRICED_ACCOUNTS).map((k) => k.toBase58());
  let estimate: bigint | null = null;
  if (config.priorityFeeEstimator === "helius") estimate = await heliusEstimate(rpc, accounts, p);
  if (estimate === null) estimate = highestPercentile(await recentFeesPerAccount(rpc, accounts), p);
  return clampPrice(estimate, config.priorityFeeFloorMicroLamports, config.priorityFeeMaxMicroLamports);
}

/** How long an account's recent fees are reused (per isolate): fees move by the slot, not by the millisecond. */
export const FEE_CACHE_MS = 5_000;
const FEE_CACHE_MAX = 2_000;
const feeCache = new Map<string, { at: number; fees: bigint[] }>();

/**
 * Each account's recent prioritization fees: from this isolate's cache when read in the last FEE_CACHE_MS, the rest
 * in one JSON-RPC batch (one item per account). A stream of builds for the same accounts (an exchange's hot vaults,
 * a user's repeated deposits) then costs no fee reads at all; only values are cached, never in-flight requests
 * (workerd does not let one request await another's I/O).
 */
async function recentFeesPerAccount(rpc: SolanaRpc, accounts: string[], now = Date.now()): Promise<bigint[][]> {
  const missing = accounts.filter((a) => {
    const hit = feeCache.get(a);
    return !hit || now - hit.at > FEE_CACHE_MS;
  });
  if (missing.length > 0) {
    const replies = await rpc.batch(missing.map((a) => ({ method: "getRecentPrioritizationFees", params: [[a]] })));
    replies.forEach((r, i) => {
      if (!r.ok) throw r.error;
      const fees = (r.value as { prioritizationFee: number }[]).map((f) => BigInt(f.prioritizationFee));
      feeCache.delete(missing[i]!);
      feeCache.set(missing[i]!, { at: now, fees });
    });
    while (feeCache.size > FEE_CACHE_MAX) feeCache.delete(feeCache.keys().next().value!);
  }
  return accounts.map((a) => feeCache.get(a)?.fees ?? []);
}

/** The highest of each account's fee percentile (0 when no account has fees). */
export function highestPercentile(perAccount: bigint[][], p: number): bigint {
  let highest = 0n;
  for (const fees of perAccount) {
    const price = percentile(fees, p);
    if (price > highest) highest = price;
  }
  return highest;
}

/** The floor, then the cap (the cap wins when they cross). */
export function clampPrice(price: bigint, floor: bigint, cap: bigint): bigint {
  const floored = price < floor ? floor : price;
  return floored > cap ? cap : floored;
}

/** Helius's levels for a percentile of recent fees. */
export function heliusLevel(p: number): string {
  if (p >= 95) return "VeryHigh";
  if (p >= 75) return "High";
  if (p >= 50) return "Medium";
  if (p >= 25) return "Low";
  return "Min";
}

/** Helius `getPriorityFeeEstimate` for the accounts at the level of `p`; null when the provider cannot answer. */
async function heliusEstimate(rpc: SolanaRpc, accounts: string[], p: number): Promise<bigint | null> {
  try {
    const reply = await rpc.call<{ priorityFeeEstimate?: number }>("getPriorityFeeEstimate", [
      { accountKeys: accounts, options: { priorityLevel: heliusLevel(p) } },
    ]);
    const value = reply?.priorityFeeEstimate;
    return typeof value === "number" && Number.isFinite(value) && value >= 0 ? BigInt(Math.ceil(value)) : null;
  } catch {
    return null;
  }
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
