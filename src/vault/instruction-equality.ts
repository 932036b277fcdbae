import type { TransactionInstruction } from "@solana/web3.js";

/** Same programs, accounts (with their flags) and data, in the same order. */
export function sameInstructions(a: TransactionInstruction[], b: TransactionInstruction[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i]!;
    if (!x.programId.equals(y.programId) || x.keys.length !== y.keys.length) return false;
    if (x.data.length !== y.data.length || !x.data.every((v, j) => v === y.data[j])) return false;
    return x.keys.every((k, j) => {
      const l = y.keys[j]!;
      return k.pubkey.equals(l.pubkey) && k.isSigner === l.isSigner && k.isWritable === l.isWritable;
    });
  });
}
