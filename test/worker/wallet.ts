/**
 * What real wallets do to a transaction before signing it: Phantom and Solflare append Lighthouse assertions, users
 * re-price the compute budget, some wallets replace a stale blockhash. And what the tests read back from Postgres.
 */
import {
  ComputeBudgetProgram,
  type Keypair,
  PublicKey,
  TransactionInstruction,
  TransactionMessage,
  VersionedTransaction,
} from "@solana/web3.js";
import bs58 from "bs58";
import { eq, or } from "drizzle-orm";
import { messageHash } from "../../src/chain/message-hash.ts";
import { transactions } from "../../src/db/schema.ts";
import { rpc } from "./chain.ts";
import { withDb } from "./ingest-support.ts";

export const LIGHTHOUSE = new PublicKey("L2TExMFKdjpN9kozasaurPirfHy9P8sbXoAN1qA3S95");

/** Instruction data as web3.js types it (a Buffer; workerd has one under nodejs_compat). */
export function instructionData(bytes: Uint8Array): TransactionInstruction["data"] {
  return (globalThis as unknown as { Buffer: { from(b: Uint8Array): TransactionInstruction["data"] } }).Buffer.from(
    bytes,
  );
}

/** A Lighthouse AssertTokenAccount-shaped instruction on `account` (the stand-in accepts it). */
export function lighthouseAssertion(account: PublicKey): TransactionInstruction {
  return new TransactionInstruction({
    programId: LIGHTHOUSE,
    keys: [{ pubkey: account, isSigner: false, isWritable: false }],
    data: instructionData(Uint8Array.of(8, 0, 1, 2, 3, 4, 5, 6, 7)),
  });
}

export interface WalletEdit {
  /** Instructions appended after the built ones (Lighthouse assertions). */
  append?: TransactionInstruction[];
  /** Replaces the compute-unit price (micro-lamports). */
  computeUnitPrice?: number;
  /** Replaces the blockhash. */
  blockhash?: string;
}

/** Decodes an unsigned transaction from the API, edits it as a wallet would, and signs it. Returns base64. */
export function walletSign(unsigned: string, edit: WalletEdit, ...signers: Keypair[]): string {
  const tx = VersionedTransaction.deserialize(Uint8Array.from(atob(unsigned), (c) => c.charCodeAt(0)));
  if (edit.computeUnitPrice === undefined && edit.blockhash === undefined && !edit.append?.length) {
    // A wallet that changes nothing signs the very message it was handed. Recompiling it would not do: web3.js's
    // TransactionMessage orders accounts differently from the legacy Transaction the API compiles with, so for some
    // keys the "same" transaction would be another message (another message hash).
    tx.sign(signers);
    return btoa(String.fromCharCode(...tx.serialize()));
  }
  const message = TransactionMessage.decompile(tx.message);
  let instructions = message.instructions;
  if (edit.computeUnitPrice !== undefined) {
    instructions = instructions.map((ix) =>
      ix.programId.equals(ComputeBudgetProgram.programId) && ix.data[0] === 3
        ? ComputeBudgetProgram.setComputeUnitPrice({ microLamports: edit.computeUnitPrice! })
        : ix,
    );
  }
  const edited = new TransactionMessage({
    payerKey: message.payerKey,
    recentBlockhash: edit.blockhash ?? message.recentBlockhash,
    instructions: [...instructions, ...(edit.append ?? [])],
  }).compileToLegacyMessage();
  const signed = new VersionedTransaction(edited);
  signed.sign(signers);
  return btoa(String.fromCharCode(...signed.serialize()));
}

/** The first signature of a base64 wire transaction, base58 (its id on chain). */
export function signatureOf(b64: string): string {
  const tx = VersionedTransaction.deserialize(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  return bs58.encode(tx.signatures[0]!);
}

/** The message hash of a base64 wire transaction, as the API names a built request's message (hex sha256). */
export function messageHashOf(b64: string): Promise<string> {
  const tx = VersionedTransaction.deserialize(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  return messageHash(tx.message.serialize());
}

/** Sends a signed base64 transaction straight to the localnet, as a wallet does; returns its signature. */
export function sendFromWallet(signed: string): Promise<string> {
  return rpc<string>("sendTransaction", [signed, { encoding: "base64" }]);
}

/** Every `transactions` row of an owner, or bound to / reporting one of the signatures (what a refusal must not touch). */
export async function rowsFor(owner: string, ...signatures: string[]) {
  return withDb((db) =>
    db
      .select()
      .from(transactions)
      .where(
        or(
          eq(transactions.vaultOwner, owner),
          ...signatures.flatMap((s) => [eq(transactions.signature, s), eq(transactions.claimedSignature, s)]),
        ),
      ),
  );
}

/** The latest blockhash at `confirmed` and its last valid block height. */
export async function latestBlockhash() {
  const { value } = await rpc<{ value: { blockhash: string; lastValidBlockHeight: number } }>("getLatestBlockhash", [
    { commitment: "confirmed" },
  ]);
  return value;
}
