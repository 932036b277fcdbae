import { Keypair, PublicKey, TransactionInstruction } from "@solana/web3.js";
import { describe, expect, it } from "vitest";
import { sameInstructions } from "../../src/vault/instruction-equality.ts";

const key = () => Keypair.generate().publicKey;

function ix(programId: PublicKey, keys: PublicKey[], data: number[], writable = true) {
  return new TransactionInstruction({
    programId,
    keys: keys.map((pubkey, i) => ({ pubkey, isSigner: i === 0, isWritable: writable })),
    data: Buffer.from(data),
  });
}

describe("prefetched pricing is reused only for the very instructions it priced", () => {
  const program = key();
  const a = key();
  const b = key();
  it("accepts equal instructions built twice", () => {
    expect(sameInstructions([ix(program, [a, b], [1, 2])], [ix(program, [a, b], [1, 2])])).toBe(true);
  });
  it("refuses any difference: data, account, flag, program, order or count", () => {
    const base = [ix(program, [a, b], [1, 2])];
    expect(sameInstructions(base, [ix(program, [a, b], [1, 3])])).toBe(false);
    expect(sameInstructions(base, [ix(program, [a, key()], [1, 2])])).toBe(false);
    expect(sameInstructions(base, [ix(program, [a, b], [1, 2], false)])).toBe(false);
    expect(sameInstructions(base, [ix(key(), [a, b], [1, 2])])).toBe(false);
    expect(sameInstructions(base, [ix(program, [b, a], [1, 2])])).toBe(false);
    expect(sameInstructions(base, [...base, ix(program, [a], [9])])).toBe(false);
    expect(sameInstructions([], [])).toBe(true);
    expect(new PublicKey(a.toBytes()).equals(a)).toBe(true);
  });
});
