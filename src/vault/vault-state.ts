import { PublicKey } from "@solana/web3.js";
import { decodeTokenAccount, getAccounts, type RawAccount, type TokenAccount } from "../chain/accounts.ts";
import { type CollateralVault, decodeCollateralVault, vaultTokenAccountAddress } from "../chain/program/index.ts";
import type { SolanaRpc } from "../chain/rpc.ts";
import { chunks } from "../lib/chunks.ts";
import { type Backing, backing, tokenColumns } from "./backing.ts";

/** A vault account as read from the chain, with the slot of the read. */
export interface VaultState {
  address: string;
  owner: string;
  tokenAccount: string;
  totalBalance: bigint;
  lockedBalance: bigint;
  availableBalance: bigint;
  totalDeposited: bigint;
  totalWithdrawn: bigint;
  createdAt: Date;
  slot: bigint;
  /** Amount of the vault's token account (at `tokenSlot`); null when that account is missing or not a token account. */
  tokenAmount: bigint | null;
  /** Mint of the vault's token account; null when it is missing. */
  mint: string | null;
  tokenFrozen: boolean;
  /** The vault's own slot when its token account is the canonical ATA (read in the same call); else a later read's. */
  tokenSlot: bigint;
  /** What USDT really backs the recorded total (src/vault/backing.ts). */
  backing: Backing;
}

/**
 * Reads vault accounts with their canonical token accounts (50 pairs per call), each chunk at one slot no older than
 * `minSlot`, so the state is at least as new as every transaction of the batch and the recorded total and the tokens
 * behind it are seen at the same slot (a self-transfer shows as unbacked at once). A vault created with another mint
 * names a token account that is not the canonical one: those are read in one more call, no older than the first.
 * Events carry only some fields (a deposit gives the new total but not available or the lifetime counters), so the
 * cache is refreshed from the accounts themselves. Addresses that are not vaults are left out.
 */
export async function readVaultStates(
  rpc: SolanaRpc,
  programId: PublicKey,
  mint: PublicKey,
  addresses: string[],
  minSlot: bigint,
): Promise<Map<string, VaultState>> {
  const keys = addresses.map((a) => new PublicKey(a));
  // The chunks are independent reads (each at its own slot, none older than minSlot): in parallel.
  const reads = await Promise.all(
    chunks(keys, 50).map(async (chunk) => {
      const atas = chunk.map((v) => tokenAccountOf(v, mint));
      const read = await getAccounts(rpc, [...chunk, ...atas], {
        commitment: "confirmed",
        minContextSlot: Number(minSlot),
      });
      return { chunk, atas, ...read };
    }),
  );
  const found: Found[] = [];
  const elsewhere: PublicKey[] = [];
  for (const { chunk, atas, slot, accounts } of reads) {
    chunk.forEach((address, j) => {
      const v = decodeVault(accounts[j] ?? null, programId);
      if (!v) return;
      const canonical = v.tokenAccount.equals(atas[j]!);
      if (!canonical) elsewhere.push(v.tokenAccount);
      const token = canonical ? { account: decodeTokenAccount(accounts[chunk.length + j] ?? null), slot } : null;
      found.push({ address, vault: v, slot, token });
    });
  }
  const other = await readTokenAccounts(rpc, elsewhere, Math.max(Number(minSlot), ...reads.map((r) => r.slot)));
  const out = new Map<string, VaultState>();
  for (const { address, vault: v, slot, token } of found) {
    const t = token ?? other.get(v.tokenAccount.toBase58())!;
    const state = {
      address: address.toBase58(),
      owner: v.owner.toBase58(),
      tokenAccount: v.tokenAccount.toBase58(),
      totalBalance: v.totalBalance,
      lockedBalance: v.lockedBalance,
      availableBalance: v.availableBalance,
      totalDeposited: v.totalDeposited,
      totalWithdrawn: v.totalWithdrawn,
      createdAt: new Date(Number(v.createdAt) * 1000),
      slot: BigInt(slot),
      ...tokenColumns(t.account, BigInt(t.slot)),
    };
    out.set(state.address, { ...state, backing: backing(state, mint.toBase58()) });
  }
  return out;
}

/** A token account as read, with the slot of the read. */
interface Token {
  account: TokenAccount | null;
  slot: number;
}

/** A decoded vault, with its token account when it was read in the same call (the canonical ATA). */
interface Found {
  address: PublicKey;
  vault: CollateralVault;
  slot: number;
  token: Token | null;
}

function decodeVault(account: RawAccount | null, programId: PublicKey) {
  if (!account?.owner.equals(programId)) return null;
  try {
    return decodeCollateralVault(account.data);
  } catch {
    return null; // Not a CollateralVault (e.g. the VaultAuthority): nothing to cache.
  }
}

/** Token accounts that are not canonical ATAs of the configured mint (vaults of other mints), 100 per call. */
async function readTokenAccounts(rpc: SolanaRpc, keys: PublicKey[], minSlot: number): Promise<Map<string, Token>> {
  const out = new Map<string, Token>();
  const unique = [...new Map(keys.map((k) => [k.toBase58(), k])).values()];
  for (const part of chunks(unique, 100)) {
    const { slot, accounts } = await getAccounts(rpc, part, { commitment: "confirmed", minContextSlot: minSlot });
    for (const [i, k] of part.entries())
      out.set(k.toBase58(), { account: decodeTokenAccount(accounts[i] ?? null), slot });
  }
  return out;
}

/** Vault → canonical token account, remembered: the derivation (sha256 + an on-curve check per bump) is pure. */
const tokenAccounts = new Map<string, PublicKey>();

function tokenAccountOf(vault: PublicKey, mint: PublicKey): PublicKey {
  const key = `${vault.toBase58()}:${mint.toBase58()}`;
  let ata = tokenAccounts.get(key);
  if (!ata) {
    ata = vaultTokenAccountAddress(vault, mint);
    // Bounded: a long-lived isolate must not grow without end.
    if (tokenAccounts.size >= 50_000) tokenAccounts.clear();
    tokenAccounts.set(key, ata);
  }
  return ata;
}
