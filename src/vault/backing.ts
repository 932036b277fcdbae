/**
 * Backed balances: what part of a vault's recorded total its token account really holds in USDT. The program's
 * recorded fields can be inflated by anyone (self-transfer, vault-program.md §8.2) and a vault may hold any mint
 * (§8.5), so a margin engine lends against `backedBalance`, never against `totalBalance` alone.
 */
import type { TokenAccount } from "../chain/accounts.ts";
import { formatUsdt } from "../lib/amount.ts";

/**
 * The closed list of balance flags (README "Backed balances"):
 * - `unbacked`: part of the recorded total is not backed by USDT in the token account (`unbackedBalance` > 0);
 * - `foreign_mint`: the token account holds another mint than USDT_MINT — nothing in this vault is USDT;
 * - `token_account_missing`: the vault's token account does not exist or is not an SPL token account;
 * - `token_account_frozen`: the mint's freeze authority froze the token account — its tokens cannot move;
 * - `token_surplus`: the token account holds more than the recorded total (tokens sent straight to it, never
 *   credited by the program; the surplus is not the owner's to withdraw);
 * - `unverified`: the token account has not been read for this cached row yet (backedBalance counts 0 until it is).
 */
export const BALANCE_FLAGS = [
  "unbacked",
  "foreign_mint",
  "token_account_missing",
  "token_account_frozen",
  "token_surplus",
  "unverified",
] as const;
export type BalanceFlag = (typeof BALANCE_FLAGS)[number];

/** What the backing is computed from: the recorded total and the token account as last read. */
export interface BackingInput {
  totalBalance: bigint;
  /** Mint of the vault's token account (null when it is missing or unknown). */
  mint: string | null;
  /** The token account's amount; null when the account is missing or was not read. */
  tokenAmount: bigint | null;
  tokenFrozen: boolean;
  /** Slot of the token account read; null = never read. */
  tokenSlot: bigint | null;
}

export interface Backing {
  /** The token account's real amount (in its own mint); null while it has never been read. */
  tokenAccountBalance: bigint | null;
  /** min(totalBalance, tokenAccountBalance) when the token account holds USDT_MINT, else 0. */
  backedBalance: bigint;
  /** totalBalance − backedBalance. */
  unbackedBalance: bigint;
  /** True when the amounts are USDT (the token account holds USDT_MINT). */
  isUsdt: boolean;
  flags: BalanceFlag[];
}

/** A vault token account as the cache stores it (`vaults` columns), read at `slot`; null = missing. */
export function tokenColumns(token: TokenAccount | null, slot: bigint) {
  return {
    mint: token?.mint.toBase58() ?? null,
    tokenAmount: token?.amount ?? null,
    tokenFrozen: token?.state === 2,
    tokenSlot: slot,
  };
}

/** The backing of a recorded total by its token account, for the configured USDT mint. */
export function backing(v: BackingInput, usdtMint: string): Backing {
  const read = v.tokenSlot !== null;
  const missing = read && v.tokenAmount === null;
  const isUsdt = read && !missing && v.mint === usdtMint;
  const tokens = v.tokenAmount ?? 0n;
  const backedBalance = isUsdt ? (tokens < v.totalBalance ? tokens : v.totalBalance) : 0n;
  const unbackedBalance = v.totalBalance - backedBalance;
  const flags: BalanceFlag[] = [];
  if (unbackedBalance > 0n) flags.push("unbacked");
  if (read && !missing && v.mint !== usdtMint) flags.push("foreign_mint");
  if (missing) flags.push("token_account_missing");
  if (read && !missing && v.tokenFrozen) flags.push("token_account_frozen");
  if (read && !missing && tokens > v.totalBalance) flags.push("token_surplus");
  if (!read) flags.push("unverified");
  return { tokenAccountBalance: read ? tokens : null, backedBalance, unbackedBalance, isUsdt, flags };
}

/** An amount for display: USDT only when the token account was read and holds USDT_MINT; otherwise base units. */
export function formatVaultAmount(amount: bigint, b: Backing, mint: string | null): string {
  if (b.isUsdt) return formatUsdt(amount);
  if (b.flags.includes("foreign_mint")) return `${amount} base units of ${mint}`;
  return `${amount} base units (token account ${b.flags.includes("unverified") ? "not verified" : "missing"})`;
}

/** The backing as socket payloads carry it: bigint amounts, written as exact JSON integers (lib/json.ts). */
export function backingPayload(b: Backing) {
  return {
    tokenAccountBalance: b.tokenAccountBalance,
    backedBalance: b.backedBalance,
    unbackedBalance: b.unbackedBalance,
    flags: b.flags,
  };
}
