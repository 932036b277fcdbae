import { ed25519 } from "@noble/curves/ed25519";
import { type PublicKey, VersionedTransaction } from "@solana/web3.js";
import { AppError } from "../api/errors.ts";
import { fromBase64, toBase64 } from "../chain/accounts.ts";
import {
  ASSOCIATED_TOKEN_PROGRAM_ID,
  COMPUTE_BUDGET_PROGRAM_ID,
  type DecodedVaultInstruction,
  decodeVaultInstruction,
} from "../chain/program/index.ts";
import type { TransactionType } from "../db/schema.ts";
import type { Services } from "../env.ts";
import { base58Encode } from "../lib/base58.ts";
import { messageHash } from "./assemble.ts";
import { simulationFailure } from "./fees.ts";

/** A signed transaction that passed the relay's checks. */
export interface VettedTransaction {
  wire: Uint8Array;
  signature: string;
  messageHash: string;
  feePayer: PublicKey;
  vaultInstructions: DecodedVaultInstruction[];
  /** Owner and type of the request this transaction carries out (from its first vault instruction). */
  owner: PublicKey;
  type: TransactionType;
  amount: bigint | null;
}

const MAX_WIRE_BYTES = 1232;

/**
 * Decodes and vets a signed transaction: every required signature present and valid (ed25519 over the message),
 * and only this program's instructions, with compute-budget and associated-token-account instructions at most
 * (never an open relay).
 */
export function vetSignedTransaction(base64: string, programId: PublicKey): VettedTransaction {
  let wire: Uint8Array;
  let tx: VersionedTransaction;
  try {
    wire = fromBase64(base64);
    if (wire.length > MAX_WIRE_BYTES) throw new Error("too large");
    tx = VersionedTransaction.deserialize(wire);
  } catch {
    throw new AppError("INVALID_TRANSACTION", "signedTransaction is not a base64-encoded Solana transaction");
  }
  const message = tx.message;
  if (message.addressTableLookups.length > 0) {
    throw new AppError("INVALID_TRANSACTION", "Transactions using address lookup tables are not relayed");
  }
  const messageBytes = message.serialize();
  const signers = message.staticAccountKeys.slice(0, message.header.numRequiredSignatures);
  if (tx.signatures.length !== signers.length) {
    throw new AppError("INVALID_SIGNATURE", "The number of signatures does not match the message's signers");
  }
  signers.forEach((key, i) => {
    const sig = tx.signatures[i]!;
    if (sig.every((b) => b === 0)) {
      throw new AppError("INVALID_SIGNATURE", `Missing signature for ${key.toBase58()}`, { signer: key.toBase58() });
    }
    if (!ed25519.verify(sig, messageBytes, key.toBytes())) {
      throw new AppError("INVALID_SIGNATURE", `Invalid signature for ${key.toBase58()}`, { signer: key.toBase58() });
    }
  });
  const keys = message.staticAccountKeys;
  const vaultInstructions: DecodedVaultInstruction[] = [];
  for (const ix of message.compiledInstructions) {
    const program = keys[ix.programIdIndex]!;
    if (program.equals(COMPUTE_BUDGET_PROGRAM_ID) || program.equals(ASSOCIATED_TOKEN_PROGRAM_ID)) continue;
    if (!program.equals(programId)) {
      throw new AppError(
        "PROGRAM_NOT_ALLOWED",
        `Only transactions for the vault program are relayed; found ${program.toBase58()}`,
        {
          program: program.toBase58(),
        },
      );
    }
    const decoded = decodeVaultInstruction(
      ix.data,
      ix.accountKeyIndexes.map((i) => keys[i]!),
    );
    if (!decoded) throw new AppError("INVALID_TRANSACTION", "A vault instruction could not be decoded");
    vaultInstructions.push(decoded);
  }
  const first = vaultInstructions[0];
  if (!first) throw new AppError("PROGRAM_NOT_ALLOWED", "The transaction has no vault program instruction");
  const { owner, type, amount } = describe(first);
  return {
    wire,
    signature: base58Encode(tx.signatures[0]!),
    messageHash: "",
    feePayer: keys[0]!,
    vaultInstructions,
    owner,
    type,
    amount,
  };
}

/** Fills in the message hash (async: WebCrypto). */
export async function withMessageHash(vetted: VettedTransaction): Promise<VettedTransaction> {
  const tx = VersionedTransaction.deserialize(vetted.wire);
  return { ...vetted, messageHash: await messageHash(tx.message.serialize()) };
}

/** The owner, request type and amount a vault instruction stands for. */
function describe(ix: DecodedVaultInstruction): { owner: PublicKey; type: TransactionType; amount: bigint | null } {
  const accounts = ix.accounts as Record<string, PublicKey>;
  const args = (ix.args ?? {}) as { amount?: bigint };
  switch (ix.name) {
    case "initializeVault":
      return { owner: accounts.user!, type: "initialize", amount: null };
    case "deposit":
      return { owner: accounts.user!, type: "deposit", amount: args.amount ?? null };
    case "withdraw":
      return { owner: accounts.user!, type: "withdrawal", amount: args.amount ?? null };
    case "lockCollateral":
      return { owner: accounts.vault!, type: "lock", amount: args.amount ?? null };
    case "unlockCollateral":
      return { owner: accounts.vault!, type: "unlock", amount: args.amount ?? null };
    case "transferCollateral":
      return { owner: accounts.fromVault!, type: "transfer_out", amount: args.amount ?? null };
    case "initializeVaultAuthority":
      return { owner: accounts.admin!, type: "initialize_authority", amount: null };
    case "addAuthorizedProgram":
      return { owner: accounts.admin!, type: "add_authorized_program", amount: null };
    case "removeAuthorizedProgram":
      return { owner: accounts.admin!, type: "remove_authorized_program", amount: null };
    case "setPaused":
      return { owner: accounts.admin!, type: "set_paused", amount: null };
  }
}

/** Simulates with signature verification; a failure is answered at once with the program error's name and code. */
export async function simulateSigned(services: Services, wire: Uint8Array): Promise<void> {
  const { value } = await services.rpc.call<{ value: { err: unknown; logs: string[] | null } }>("simulateTransaction", [
    toBase64(wire),
    { encoding: "base64", sigVerify: true, commitment: "confirmed" },
  ]);
  if (!value.err) return;
  if (value.err === "BlockhashNotFound") {
    throw new AppError("BLOCKHASH_EXPIRED", "The transaction's blockhash has expired; build and sign a new one");
  }
  throw simulationFailure(value.err, value.logs ?? []);
}

/** Sends without preflight (the relay simulated already) and without the node's own retries (we rebroadcast). */
export async function sendRaw(services: Services, wire: Uint8Array): Promise<string> {
  return services.rpc.call<string>("sendTransaction", [
    toBase64(wire),
    { encoding: "base64", skipPreflight: true, maxRetries: 0 },
  ]);
}
