import { PublicKey } from "@solana/web3.js";

const BASE58 = /^[1-9A-HJ-NP-Za-km-z]+$/;

/** Parses a base58 public key of exactly 32 bytes; returns null for anything else (never throws). */
export function parsePubkey(value: unknown): PublicKey | null {
  if (typeof value !== "string" || value.length < 32 || value.length > 44 || !BASE58.test(value)) return null;
  try {
    const key = new PublicKey(value);
    // PublicKey accepts some non-canonical encodings (leading "1"s); the key must round-trip to the same text.
    return key.toBase58() === value ? key : null;
  } catch {
    return null;
  }
}
