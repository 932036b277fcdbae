/** What backs a recorded balance, and the closed list of flags a margin engine reads. */
import { Keypair } from "@solana/web3.js";
import { describe, expect, it } from "vitest";
import { BALANCE_FLAGS, backing, formatVaultAmount } from "../../src/vault/backing.ts";

const USDT = Keypair.generate().publicKey.toBase58();
const OTHER = Keypair.generate().publicKey.toBase58();
const read = { mint: USDT, tokenFrozen: false, tokenSlot: 10n };

describe("backing", () => {
  it("backs the recorded total up to what the USDT token account holds", () => {
    expect(backing({ ...read, totalBalance: 100n, tokenAmount: 100n }, USDT)).toEqual({
      tokenAccountBalance: 100n,
      backedBalance: 100n,
      unbackedBalance: 0n,
      isUsdt: true,
      flags: [],
    });
    expect(backing({ ...read, totalBalance: 300n, tokenAmount: 100n }, USDT)).toMatchObject({
      backedBalance: 100n,
      unbackedBalance: 200n,
      flags: ["unbacked"],
    });
    expect(backing({ ...read, totalBalance: 100n, tokenAmount: 150n }, USDT)).toMatchObject({
      backedBalance: 100n,
      unbackedBalance: 0n,
      flags: ["token_surplus"],
    });
  });

  it("backs nothing in another mint, in a missing or unread token account, and says why", () => {
    expect(backing({ ...read, mint: OTHER, totalBalance: 5n, tokenAmount: 5n }, USDT)).toMatchObject({
      backedBalance: 0n,
      isUsdt: false,
      flags: ["unbacked", "foreign_mint"],
    });
    expect(backing({ ...read, mint: null, totalBalance: 5n, tokenAmount: null }, USDT)).toMatchObject({
      tokenAccountBalance: 0n,
      backedBalance: 0n,
      flags: ["unbacked", "token_account_missing"],
    });
    expect(backing({ ...read, tokenSlot: null, totalBalance: 5n, tokenAmount: null }, USDT)).toMatchObject({
      tokenAccountBalance: null,
      backedBalance: 0n,
      flags: ["unbacked", "unverified"],
    });
    expect(backing({ ...read, tokenFrozen: true, totalBalance: 5n, tokenAmount: 5n }, USDT).flags).toEqual([
      "token_account_frozen",
    ]);
  });

  it("uses only flags from the documented list", () => {
    const cases = [
      backing({ ...read, mint: OTHER, totalBalance: 5n, tokenAmount: 9n, tokenFrozen: true }, USDT),
      backing({ ...read, tokenSlot: null, totalBalance: 0n, tokenAmount: null }, USDT),
    ];
    for (const b of cases) for (const f of b.flags) expect(BALANCE_FLAGS).toContain(f);
  });

  it("formats USDT only for a USDT token account", () => {
    const usdt = backing({ ...read, totalBalance: 1_500_000n, tokenAmount: 1_500_000n }, USDT);
    expect(formatVaultAmount(1_500_000n, usdt, USDT)).toBe("1.50 USDT");
    const other = backing({ ...read, mint: OTHER, totalBalance: 1_500_000n, tokenAmount: 1_500_000n }, USDT);
    expect(formatVaultAmount(1_500_000n, other, OTHER)).toBe(`1500000 base units of ${OTHER}`);
  });
});
