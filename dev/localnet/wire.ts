/**
 * Parsing and front checks of wire transactions: what a validator does before execution (sanitize, signature
 * verification, fee computation from ComputeBudget instructions).
 */
import { createPublicKey, verify } from "node:crypto";
import { PublicKey, VersionedMessage } from "@solana/web3.js";
import bs58 from "./base58.ts";

export const COMPUTE_BUDGET_PROGRAM = new PublicKey("ComputeBudget111111111111111111111111111111");
export const LAMPORTS_PER_SIGNATURE = 5000n;
const DEFAULT_UNITS_PER_INSTRUCTION = 200_000n;
const MAX_UNITS = 1_400_000n;

/** A decoded transaction. */
export interface ParsedTx {
  wire: Uint8Array;
  signatures: Uint8Array[];
  messageBytes: Uint8Array;
  message: VersionedMessage;
  version: "legacy" | 0;
  accountKeys: PublicKey[];
}

/** A transaction the front refuses, with the JSON-RPC error it maps to. */
export class FrontError extends Error {
  readonly code: number;
  readonly txError: string | null;
  constructor(code: number, message: string, txError: string | null = null) {
    super(message);
    this.code = code;
    this.txError = txError;
  }
}

function readShortvec(bytes: Uint8Array, offset: number): [number, number] {
  let value = 0;
  let size = 0;
  for (;;) {
    const b = bytes[offset + size];
    if (b === undefined) throw new FrontError(-32602, "invalid transaction: truncated");
    value |= (b & 0x7f) << (7 * size);
    size += 1;
    if ((b & 0x80) === 0) return [value, size];
    if (size > 3) throw new FrontError(-32602, "invalid transaction: bad length");
  }
}

/** Decodes wire bytes; rejects malformed transactions, signature-count mismatches and address lookup tables. */
export function parseTransaction(wire: Uint8Array): ParsedTx {
  const [count, size] = readShortvec(wire, 0);
  const signatures: Uint8Array[] = [];
  for (let i = 0; i < count; i++) signatures.push(wire.slice(size + 64 * i, size + 64 * (i + 1)));
  const messageBytes = wire.slice(size + 64 * count);
  let message: VersionedMessage;
  try {
    message = VersionedMessage.deserialize(messageBytes);
  } catch (e) {
    throw new FrontError(-32602, `invalid transaction: failed to deserialize: ${(e as Error).message}`);
  }
  if (message.header.numRequiredSignatures !== count) {
    throw new FrontError(-32602, "invalid transaction: Transaction failed to sanitize accounts offsets correctly");
  }
  if (message.addressTableLookups.length > 0) {
    throw new FrontError(
      -32602,
      "invalid transaction: address lookup tables are not supported by the localnet",
      "AddressLookupTableNotFound",
    );
  }
  const version = message.version === "legacy" ? "legacy" : 0;
  return { wire, signatures, messageBytes, message, version, accountKeys: message.staticAccountKeys };
}

/** DER prefix of an Ed25519 SubjectPublicKeyInfo: the raw 32-byte key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/**
 * True when every signature is a valid ed25519 signature of the message by its signer key. Node's native ed25519
 * (OpenSSL, RFC 8032 verification) is ~15× faster than the pure-JS one, which dominated the backlog load.
 */
export function verifySignatures(tx: ParsedTx): boolean {
  return tx.signatures.every((sig, i) => {
    const key = tx.accountKeys[i];
    if (!key || sig.length !== 64) return false;
    try {
      const publicKey = createPublicKey({
        key: Buffer.concat([ED25519_SPKI_PREFIX, key.toBytes()]),
        format: "der",
        type: "spki",
      });
      return verify(null, tx.messageBytes, publicKey, sig);
    } catch {
      return false;
    }
  });
}

/** The transaction id: base58 of the first signature. */
export function signatureOf(tx: ParsedTx): string {
  return bs58.encode(tx.signatures[0] ?? new Uint8Array(64));
}

/** Compute-unit price (micro-lamports) and limit as a validator derives them from ComputeBudget instructions. */
export function computeBudget(message: VersionedMessage): { price: bigint; limit: bigint } {
  let price = 0n;
  let limit: bigint | null = null;
  let others = 0n;
  for (const ix of message.compiledInstructions) {
    const program = message.staticAccountKeys[ix.programIdIndex];
    if (!program?.equals(COMPUTE_BUDGET_PROGRAM)) {
      others += 1n;
      continue;
    }
    const data = Buffer.from(ix.data);
    if (data[0] === 2 && data.length >= 5) limit = BigInt(data.readUInt32LE(1));
    if (data[0] === 3 && data.length >= 9) price = data.readBigUInt64LE(1);
  }
  const units =
    limit ?? (others * DEFAULT_UNITS_PER_INSTRUCTION < MAX_UNITS ? others * DEFAULT_UNITS_PER_INSTRUCTION : MAX_UNITS);
  return { price, limit: units < MAX_UNITS ? units : MAX_UNITS };
}

/** Fee in lamports: 5000 per signature plus ceil(price × limit / 1e6). */
export function feeFor(message: VersionedMessage): bigint {
  const { price, limit } = computeBudget(message);
  const priority = (price * limit + 999_999n) / 1_000_000n;
  return LAMPORTS_PER_SIGNATURE * BigInt(message.header.numRequiredSignatures) + priority;
}
