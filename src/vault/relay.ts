/**
 * The relay's view of a signed transaction: decoded exactly (nothing before, after or around the message), every
 * required signature verified, every instruction decoded. What may be relayed is decided by relay-policy.ts.
 */
import { ed25519 } from "@noble/curves/ed25519";
import { type PublicKey, VersionedTransaction } from "@solana/web3.js";
import bs58 from "bs58";
import { fromBase64, toBase64 } from "../chain/accounts.ts";
import { messageHash } from "../chain/message-hash.ts";
import { RpcError } from "../chain/rpc.ts";
import type { TransactionType } from "../db/schema.ts";
import { AppError } from "../lib/errors.ts";
import type { Services } from "../platform/services.ts";
import { intentHash } from "./intent.ts";

/** One instruction of the message, with its accounts' flags as the message sets them. */
export interface MessageInstruction {
  index: number;
  programId: PublicKey;
  accounts: Array<{ pubkey: PublicKey; isSigner: boolean; isWritable: boolean }>;
  data: Uint8Array;
}

/** A signed transaction decoded and signature-checked (not yet judged by the policy). */
export interface DecodedSignedTransaction {
  wire: Uint8Array;
  /** The first signature (the transaction's id), base58. */
  signature: string;
  messageHash: string;
  /** Hex sha256 of the vault instructions (intent.ts); null when there is none. */
  intentHash: string | null;
  recentBlockhash: string;
  feePayer: PublicKey;
  instructions: MessageInstruction[];
}

const MAX_WIRE_BYTES = 1232;

/**
 * Decodes a base64 wire transaction and checks it the way a validator's front does: canonical bytes (no trailing
 * or missing bytes), a sane header, unique account keys, in-range indexes, no address lookup tables (not relayed),
 * one valid ed25519 signature per required signer.
 */
export async function decodeSignedTransaction(base64: string, programId: PublicKey): Promise<DecodedSignedTransaction> {
  const { wire, tx } = readWireTransaction(base64);
  const message = tx.message;
  if (message.addressTableLookups.length > 0) {
    throw new AppError("INVALID_TRANSACTION", "Transactions using address lookup tables are not relayed");
  }
  const keys = message.staticAccountKeys;
  sanitize(tx, keys);
  const messageBytes = message.serialize();
  verifySignatures(tx, keys, messageBytes);
  const instructions: MessageInstruction[] = message.compiledInstructions.map((ix, index) => ({
    index,
    programId: keys[ix.programIdIndex]!,
    accounts: ix.accountKeyIndexes.map((i) => ({
      pubkey: keys[i]!,
      isSigner: message.isAccountSigner(i),
      isWritable: message.isAccountWritable(i),
    })),
    data: ix.data,
  }));
  return {
    wire,
    signature: bs58.encode(tx.signatures[0]!),
    messageHash: await messageHash(messageBytes),
    intentHash: await intentHash(
      instructions.map((ix) => ({ ...ix, accounts: ix.accounts.map((a) => a.pubkey) })),
      programId,
    ),
    recentBlockhash: message.recentBlockhash,
    feePayer: keys[0]!,
    instructions,
  };
}

/**
 * The one reader of a client's wire transaction: base64, size, web3.js's decoder, and canonical bytes (it re-encodes
 * to exactly the bytes sent). Refuses with INVALID_TRANSACTION; checks nothing about signatures or the message.
 */
export function readWireTransaction(base64: string): { wire: Uint8Array; tx: VersionedTransaction } {
  const wire = parseWire(base64);
  return { wire, tx: deserialize(wire) };
}

function parseWire(base64: string): Uint8Array {
  try {
    const wire = fromBase64(base64);
    if (wire.length > 0 && wire.length <= MAX_WIRE_BYTES) return wire;
  } catch {
    // Not base64: refused below.
  }
  throw new AppError("INVALID_TRANSACTION", "signedTransaction is not a base64-encoded Solana transaction");
}

function deserialize(wire: Uint8Array): VersionedTransaction {
  let tx: VersionedTransaction;
  try {
    tx = VersionedTransaction.deserialize(wire);
  } catch {
    throw new AppError("INVALID_TRANSACTION", "signedTransaction is not a base64-encoded Solana transaction");
  }
  // web3.js ignores bytes after the message; a validator would not read them either. Refused rather than relayed.
  let again: Uint8Array;
  try {
    again = tx.serialize();
  } catch {
    throw new AppError("INVALID_TRANSACTION", "The transaction does not re-encode (malformed message)");
  }
  if (again.length !== wire.length || again.some((b, i) => b !== wire[i])) {
    throw new AppError("INVALID_TRANSACTION", "The transaction has bytes outside its signatures and message");
  }
  return tx;
}

/** The checks a validator's sanitize step makes (so a malformed message is a 400, never a node error or a crash). */
function sanitize(tx: VersionedTransaction, keys: PublicKey[]): void {
  const { header, compiledInstructions } = tx.message;
  const bad = (why: string) => new AppError("INVALID_TRANSACTION", `Malformed message: ${why}`);
  if (header.numRequiredSignatures < 1) throw bad("no signer");
  if (header.numReadonlySignedAccounts >= header.numRequiredSignatures) throw bad("the fee payer must be writable");
  if (header.numRequiredSignatures + header.numReadonlyUnsignedAccounts > keys.length) throw bad("header overflow");
  if (new Set(keys.map((k) => k.toBase58())).size !== keys.length) throw bad("an account key appears twice");
  if (compiledInstructions.length === 0) throw bad("no instruction");
  for (const ix of compiledInstructions) {
    if (ix.programIdIndex === 0 || ix.programIdIndex >= keys.length) throw bad("program index out of range");
    if (ix.accountKeyIndexes.some((i) => i >= keys.length)) throw bad("account index out of range");
  }
}

function verifySignatures(tx: VersionedTransaction, keys: PublicKey[], messageBytes: Uint8Array): void {
  const signers = keys.slice(0, tx.message.header.numRequiredSignatures);
  if (tx.signatures.length !== signers.length) {
    throw new AppError("INVALID_SIGNATURE", "The number of signatures does not match the message's signers");
  }
  signers.forEach((key, i) => {
    const sig = tx.signatures[i]!;
    if (sig.every((b) => b === 0)) {
      throw new AppError("INVALID_SIGNATURE", `Missing signature for ${key.toBase58()}`, { signer: key.toBase58() });
    }
    let valid = false;
    try {
      valid = ed25519.verify(sig, messageBytes, key.toBytes());
    } catch {
      // A malformed point or signature is simply not a valid signature.
    }
    if (!valid) {
      throw new AppError("INVALID_SIGNATURE", `Invalid signature for ${key.toBase58()}`, { signer: key.toBase58() });
    }
  });
}

/** The request type a vault instruction stands for. */
export const REQUEST_TYPE: Record<string, TransactionType> = {
  initializeVault: "initialize",
  deposit: "deposit",
  withdraw: "withdrawal",
  lockCollateral: "lock",
  unlockCollateral: "unlock",
  transferCollateral: "transfer_out",
};

/** A simulation's answer, as the relay reads it. */
export interface SimulationOutcome {
  err: unknown;
  logs: string[];
}

/** Sends without preflight (the relay simulated already) and without the node's own retries (we rebroadcast). */
export async function sendRaw(services: Services, wire: Uint8Array): Promise<string> {
  return services.rpc.call<string>("sendTransaction", [
    toBase64(wire),
    { encoding: "base64", skipPreflight: true, maxRetries: 0 },
  ]);
}

/**
 * Sends a transaction the relay accepted. The node's refusal (e.g. it has just seen the same transaction land) is
 * the client's answer, as a coded 422 — nothing has been recorded yet.
 */
export async function sendAccepted(services: Services, wire: Uint8Array): Promise<string> {
  try {
    return await sendRaw(services, wire);
  } catch (err) {
    if (!(err instanceof RpcError)) throw err;
    if (/blockhash not found/i.test(err.message)) {
      throw new AppError("BLOCKHASH_EXPIRED", "The transaction's blockhash has expired; build and sign a new one");
    }
    throw new AppError("TRANSACTION_FAILED", `The node refused the transaction: ${err.message}`, {
      rpcCode: err.code,
    });
  }
}

/** A relayed request the owner's hub follows on its alarm (rebroadcast until it lands or expires). */
export interface TrackedRequest {
  transactionId: string;
  /** Signed wire transaction (base64) to rebroadcast; absent when the client only reported the signature. */
  wire?: string;
  lastSentAt: number;
  /** When tracking began (entries stored before this field existed count from their next tick). */
  trackedSince?: number;
}
