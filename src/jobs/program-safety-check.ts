/**
 * Program safety, checked by simulation: can a stranger lock, unlock or transfer a vault's collateral? Each question
 * is a transaction signed (on paper) by a fresh random key that is nowhere in the authorized list, simulated with
 * signature verification off and the blockhash replaced — nothing is signed for real, nothing is sent. The answer to
 * an auditor's first question, given by the service itself (vault-program.md §8.1 says the deployed program lets
 * anyone; a fixed program would refuse).
 */
import { Keypair, PublicKey, Transaction, type TransactionInstruction } from "@solana/web3.js";
import { and, desc, eq, gte } from "drizzle-orm";
import { getAccounts, toBase64 } from "../chain/accounts.ts";
import {
  lockCollateralIx,
  programErrorFromTransaction,
  transferCollateralIx,
  unlockCollateralIx,
} from "../chain/program/index.ts";
import { vaults } from "../db/schema.ts";
import type { Services } from "../platform/services.ts";

/** exposed: the stranger's transaction succeeds; refused: the program rejects the stranger; inconclusive: it failed for another reason. */
export type ProbeOutcome = "exposed" | "refused" | "inconclusive";
export type SafetyStatus = "exposed" | "safe" | "inconclusive" | "untested";

export interface OperationProbe {
  outcome: ProbeOutcome;
  /** The error the simulation reported (name and code), null when it succeeded. */
  error: string | null;
}

export interface SafetyResult {
  status: SafetyStatus;
  checkedAt: string;
  /** Why the result is untested or inconclusive. */
  reason: string | null;
  /** The slot the simulations ran against (the newest of the three). */
  slot: number | null;
  vault: string | null;
  owner: string | null;
  destinationVault: string | null;
  /** The random key that played the stranger: it never signed anything, so no transaction can name it. */
  stranger: string;
  feePayer: string | null;
  operations: Record<"lock" | "unlock" | "transfer", OperationProbe> | null;
}

/** Errors about the vault's funds or the program's state, not about who is calling: they answer nothing. */
const NOT_ABOUT_THE_CALLER = new Set([6000, 12010, 12012, 12032, 12040, 12041]);
/** Custom codes below this come from the SPL Token program (the transfer's CPI), e.g. 1 InsufficientFunds. */
const TOKEN_PROGRAM_CODES = 100;
/** A fee payer must hold enough lamports for the simulated fee; the fee is never charged. */
const MIN_FEE_PAYER_LAMPORTS = 1_000_000n;
const PROBE_AMOUNT = 1n;

/** Runs the three simulations against a vault with funds (see README "Program safety"). */
export async function probeProgramSafety(services: Services): Promise<SafetyResult> {
  const stranger = Keypair.generate().publicKey;
  const base: SafetyResult = {
    status: "untested",
    checkedAt: new Date().toISOString(),
    reason: null,
    slot: null,
    vault: null,
    owner: null,
    destinationVault: null,
    stranger: stranger.toBase58(),
    feePayer: null,
    operations: null,
  };
  const parties = await chooseParties(services);
  if (!parties.ok) return { ...base, reason: parties.reason };
  const { target, destination, locked, feePayer } = parties;
  const programId = services.config.programId;
  const amount = PROBE_AMOUNT;
  const targetVault = new PublicKey(target.vaultAddress);
  const lock = lockCollateralIx({ programId, authority: stranger, vault: targetVault, amount });
  const to = destination ?? target;
  const transfer = transferCollateralIx({
    programId,
    authority: stranger,
    fromVault: targetVault,
    fromTokenAccount: new PublicKey(target.tokenAccount),
    toVault: new PublicKey(to.vaultAddress),
    toTokenAccount: new PublicKey(to.tokenAccount),
    amount,
    reason: "other",
  });
  // Unlock needs locked collateral: a vault that has some, else the target after the stranger's own lock.
  const unlockVault = new PublicKey((locked ?? target).vaultAddress);
  const unlock = unlockCollateralIx({ programId, authority: stranger, vault: unlockVault, amount });
  const unlockProbe = locked ? [unlock] : [lock, unlock];
  const [l, u, t] = await Promise.all(
    [[lock], unlockProbe, [transfer]].map((ixs) => simulate(services, feePayer, ixs)),
  );
  const operations = {
    lock: classify(l!, 0),
    unlock: classify(u!, unlockProbe.length - 1),
    transfer: classify(t!, 0),
  };
  const all = Object.values(operations).map((o) => o.outcome);
  const status: SafetyStatus = all.includes("exposed")
    ? "exposed"
    : all.every((o) => o === "refused")
      ? "safe"
      : "inconclusive";
  return {
    ...base,
    status,
    reason: status === "inconclusive" ? "a simulation failed for a reason that does not concern the caller" : null,
    slot: Math.max(l!.slot, u!.slot, t!.slot),
    vault: target.vaultAddress,
    owner: target.owner,
    destinationVault: to.vaultAddress,
    feePayer: feePayer.toBase58(),
    operations,
  };
}

/** Candidates read per check: the cache may hold vaults the chain no longer has (or never had). */
const CANDIDATES = 10;

/**
 * The vaults of the check, chosen in the cache and confirmed on chain in one read: the target (a USDT vault with the
 * largest available balance that exists), another vault to transfer to (null: the target itself), a vault with
 * locked collateral for the unlock (null: none), and a fee payer — the destination's owner (a bystander to the
 * target) or another candidate's owner with SOL. The fee payer only lends its address: no signature is verified.
 */
async function chooseParties(services: Services) {
  const db = services.reads();
  const usdt = and(eq(vaults.status, "active"), eq(vaults.mint, services.config.usdtMint.toBase58()));
  const funded = and(usdt, gte(vaults.availableBalance, PROBE_AMOUNT), gte(vaults.tokenAmount, PROBE_AMOUNT));
  const [candidates, lockedOnes] = await Promise.all([
    db.select().from(vaults).where(funded).orderBy(desc(vaults.availableBalance)).limit(CANDIDATES),
    db
      .select()
      .from(vaults)
      .where(and(usdt, gte(vaults.lockedBalance, PROBE_AMOUNT)))
      .limit(CANDIDATES),
  ]);
  if (candidates.length === 0) return refuse("no vault holding USDT with an available balance is known yet");
  const rows = [...new Map([...candidates, ...lockedOnes].map((r) => [r.owner, r])).values()];
  const keys = rows.flatMap((r) => [new PublicKey(r.vaultAddress), new PublicKey(r.owner)]);
  const { accounts } = await getAccounts(services.rpc, keys);
  const exists = (i: number) => accounts[2 * i]?.owner.equals(services.config.programId) === true;
  const onChain = new Set(rows.filter((_r, i) => exists(i)).map((r) => r.owner));
  const lamports = new Map(rows.map((r, i) => [r.owner, accounts[2 * i + 1]?.lamports ?? 0n]));
  const present = candidates.filter((r) => onChain.has(r.owner));
  const target = present[0];
  if (!target) return refuse("none of the cached USDT vaults with funds exists on chain");
  const destination = present[1] ?? null;
  const payer = [destination, ...present.slice(2), target].find(
    (r) => r && (lamports.get(r.owner) ?? 0n) >= MIN_FEE_PAYER_LAMPORTS,
  );
  if (!payer) return refuse("no vault owner holds enough SOL to pay a simulated fee");
  const locked = lockedOnes.find((r) => onChain.has(r.owner)) ?? null;
  return { ok: true as const, target, destination, locked, feePayer: new PublicKey(payer.owner) };
}

function refuse(reason: string) {
  return { ok: false as const, reason };
}

interface Simulation {
  err: unknown;
  logs: string[];
  slot: number;
}

async function simulate(services: Services, feePayer: PublicKey, ixs: TransactionInstruction[]): Promise<Simulation> {
  // Any blockhash serializes: the node replaces it (replaceRecentBlockhash) and checks no signature (sigVerify off).
  const tx = new Transaction({ feePayer, blockhash: "11111111111111111111111111111111", lastValidBlockHeight: 0 });
  tx.add(...ixs);
  const wire = tx.serialize({ requireAllSignatures: false, verifySignatures: false });
  const { context, value } = await services.rpc.call<{
    context: { slot: number };
    value: { err: unknown; logs: string[] | null };
  }>("simulateTransaction", [
    toBase64(wire),
    { encoding: "base64", sigVerify: false, replaceRecentBlockhash: true, commitment: "confirmed" },
  ]);
  return { err: value.err, logs: value.logs ?? [], slot: context.slot };
}

/** What a simulation says about the instruction at `probed` (earlier ones only set the stage). */
export function classify(sim: { err: unknown; logs: string[] }, probed: number): OperationProbe {
  if (sim.err === null || sim.err === undefined) return { outcome: "exposed", error: null };
  const failure = programErrorFromTransaction(sim.err, sim.logs);
  if (!failure) return { outcome: "inconclusive", error: JSON.stringify(sim.err) };
  const error = `${failure.name}${failure.code !== undefined ? ` (${failure.code})` : ""}`;
  // The stage (the stranger's own lock before an unlock) was refused: the probed instruction never ran.
  if (failure.instructionIndex < probed) return { outcome: "inconclusive", error: `setup refused: ${error}` };
  const code = failure.code;
  if (code !== undefined && (NOT_ABOUT_THE_CALLER.has(code) || code < TOKEN_PROGRAM_CODES)) {
    return { outcome: "inconclusive", error };
  }
  return { outcome: "refused", error };
}
