/**
 * The localnet's own ledger: only user-visible transactions (never LiteSVM's internal single-instruction ones),
 * indexed by signature and by every account key of their message.
 */

import type { VersionedMessage } from "@solana/web3.js";
import { PublicKey } from "@solana/web3.js";
import type { AccountState } from "./program-model.ts";
import type { RawInnerInstruction, TransactionErrorJson } from "./svm.ts";

export const TOKEN_PROGRAM = new PublicKey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
export const TOKEN_2022_PROGRAM = new PublicKey("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");

export interface UiTokenAmount {
  amount: string;
  decimals: number;
  uiAmount: number | null;
  uiAmountString: string;
}

export interface TokenBalance {
  accountIndex: number;
  mint: string;
  owner: string;
  programId: string;
  uiTokenAmount: UiTokenAmount;
}

export interface TxMeta {
  err: TransactionErrorJson | null;
  fee: bigint;
  preBalances: bigint[];
  postBalances: bigint[];
  preTokenBalances: TokenBalance[];
  postTokenBalances: TokenBalance[];
  logMessages: string[];
  /** One entry per top-level instruction that has inner instructions. */
  innerInstructions: Array<{ index: number; instructions: RawInnerInstruction[] }>;
  computeUnitsConsumed: bigint;
}

export interface TxRecord {
  signature: string;
  slot: number;
  blockTime: number;
  wire: Uint8Array;
  message: VersionedMessage;
  version: "legacy" | 0;
  meta: TxMeta;
  /** Compute-unit price in micro-lamports (for getRecentPrioritizationFees). */
  computeUnitPrice: bigint;
}

/** Formats a token amount as the RPC's uiTokenAmount. */
export function uiTokenAmount(amount: bigint, decimals: number): UiTokenAmount {
  const s = amount.toString().padStart(decimals + 1, "0");
  const whole = s.slice(0, s.length - decimals);
  const frac = s.slice(s.length - decimals).replace(/0+$/, "");
  const uiAmountString = frac ? `${whole}.${frac}` : whole;
  return { amount: amount.toString(), decimals, uiAmount: Number(uiAmountString), uiAmountString };
}

/** True when the account is an SPL Token (or Token-2022) token account. */
export function isTokenAccount(a: AccountState | null): a is AccountState {
  return !!a && (a.owner.equals(TOKEN_PROGRAM) || a.owner.equals(TOKEN_2022_PROGRAM)) && a.data.length >= 165;
}

/** Token balances of every token account among `keys`, as in meta.pre/postTokenBalances. */
export function tokenBalances(keys: PublicKey[], load: (k: PublicKey) => AccountState | null): TokenBalance[] {
  const out: TokenBalance[] = [];
  keys.forEach((key, accountIndex) => {
    const a = load(key);
    if (!isTokenAccount(a)) return;
    const mint = new PublicKey(a.data.slice(0, 32));
    const mintAccount = load(mint);
    const decimals = mintAccount?.data[44] ?? 0;
    const amount = Buffer.from(a.data).readBigUInt64LE(64);
    out.push({
      accountIndex,
      mint: mint.toBase58(),
      owner: new PublicKey(a.data.slice(32, 64)).toBase58(),
      programId: a.owner.toBase58(),
      uiTokenAmount: uiTokenAmount(amount, decimals),
    });
  });
  return out;
}

export class Ledger {
  private readonly bySignature = new Map<string, TxRecord>();
  private readonly byAddress = new Map<string, TxRecord[]>();
  /** Every record in landing order. */
  readonly records: TxRecord[] = [];

  add(record: TxRecord): void {
    this.bySignature.set(record.signature, record);
    this.records.push(record);
    const seen = new Set<string>();
    for (const key of record.message.staticAccountKeys) {
      const k = key.toBase58();
      if (seen.has(k)) continue;
      seen.add(k);
      const list = this.byAddress.get(k) ?? [];
      list.push(record);
      this.byAddress.set(k, list);
    }
  }

  get(signature: string): TxRecord | undefined {
    return this.bySignature.get(signature);
  }

  has(signature: string): boolean {
    return this.bySignature.has(signature);
  }

  /** Records that name `address`, newest first, landed at or before `maxSlot`. */
  forAddress(address: string, maxSlot: number): TxRecord[] {
    const list = this.byAddress.get(address) ?? [];
    return list.filter((r) => r.slot <= maxSlot).reverse();
  }
}
