/**
 * Which request a transaction carries out. A request is identified by its **intent**: the vault-program
 * instructions it runs at top level, in order, each with its exact data (discriminator and arguments: amount,
 * reason…) and its exact account list (owner, vault, token accounts, authority, destination vault…). Whatever a
 * wallet adds around them — compute-budget instructions, Lighthouse assertions, an idempotent ATA creation — and
 * whoever re-prices or re-signs it, a transaction with the same intent does the same thing to the vaults. The relay
 * and ingestion both match by intent, and both break ties with `pickRequest`.
 */
import type { PublicKey } from "@solana/web3.js";

/** An instruction as built (web3.js keys) or as read from the chain (account list). */
export interface IntentInstruction {
  programId: PublicKey;
  accounts: readonly PublicKey[];
  data: Uint8Array;
}

/** The canonical text of a transaction's intent: its top-level vault instructions; null when it has none. */
export function intentText(instructions: readonly IntentInstruction[], programId: PublicKey): string | null {
  const parts = instructions
    .filter((ix) => ix.programId.equals(programId))
    .map((ix) => `${hex(ix.data)}@${ix.accounts.map((a) => a.toBase58()).join(",")}`);
  return parts.length > 0 ? parts.join(";") : null;
}

/** Hex sha256 of the intent text (the `intent_hash` column); null when the transaction has no vault instruction. */
export async function intentHash(
  instructions: readonly IntentInstruction[],
  programId: PublicKey,
): Promise<string | null> {
  return hashIntentText(intentText(instructions, programId));
}

/** Hex sha256 of an intent text (null stays null). */
export async function hashIntentText(text: string | null): Promise<string | null> {
  if (text === null) return null;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return hex(new Uint8Array(digest));
}

/** What the tie-break looks at on a request. */
export interface MatchCandidate {
  id: string;
  messageHash: string | null;
  blockhash: string | null;
  claimedSignature: string | null;
  createdAt: Date;
}

/** What the tie-break looks at on the transaction. */
export interface MatchedTransaction {
  signature: string;
  messageHash: string;
  recentBlockhash: string;
}

/**
 * The one request, among unbound requests with the transaction's intent, that the transaction is taken to carry
 * out — a deterministic rule, so the relay, a signature check and ingestion all pick the same one:
 *   1. the request built with exactly this message (the wallet changed nothing),
 *   2. then one built with the same blockhash (the wallet kept the blockhash it was handed),
 *   3. then one whose client reported this signature,
 *   4. then the oldest (then the smallest id).
 * Two identical pending deposits of 100 by one owner are interchangeable on chain; this only decides which of the
 * two rows the landed one becomes — the other keeps following its own blockhash and expires.
 */
export function pickRequest<T extends MatchCandidate>(candidates: readonly T[], tx: MatchedTransaction): T | null {
  let best: T | null = null;
  let bestRank: number[] = [];
  for (const c of candidates) {
    const rank = [
      c.messageHash === tx.messageHash ? 0 : 1,
      c.blockhash === tx.recentBlockhash ? 0 : 1,
      c.claimedSignature === tx.signature ? 0 : 1,
      c.createdAt.getTime(),
    ];
    if (best === null || compare(rank, bestRank) < 0 || (compare(rank, bestRank) === 0 && c.id < best.id)) {
      best = c;
      bestRank = rank;
    }
  }
  return best;
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
