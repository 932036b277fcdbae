import { PublicKey } from "@solana/web3.js";
import { decodeTokenAccount, getAccounts } from "../chain/accounts.ts";
import { decodeCollateralVault, vaultTokenAccountAddress } from "../chain/program/index.ts";
import type { SolanaRpc } from "../chain/rpc.ts";
import { chunks } from "../lib/chunks.ts";

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
  /** Amount of the vault's token account read at the same slot; null when it is not the canonical ATA of `mint`. */
  tokenAmount: bigint | null;
}

/**
 * Reads vault accounts with their canonical token accounts (50 pairs per call), each chunk at one slot no older than `minSlot`, so the state is at least as
 * new as every transaction of the batch. Events carry only some fields (a deposit gives the new total but not
 * available or the lifetime counters), so the cache is refreshed from the accounts themselves. Addresses that are
 * not vaults are left out.
 */
export async function readVaultStates(
  rpc: SolanaRpc,
  programId: PublicKey,
  mint: PublicKey,
  addresses: string[],
  minSlot: bigint,
): Promise<Map<string, VaultState>> {
  const out = new Map<string, VaultState>();
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
  for (const { chunk, atas, slot, accounts } of reads) {
    chunk.forEach((address, j) => {
      const account = accounts[j];
      if (!account?.owner.equals(programId)) return;
      let v: ReturnType<typeof decodeCollateralVault>;
      try {
        v = decodeCollateralVault(account.data);
      } catch {
        return; // Not a CollateralVault (e.g. the VaultAuthority): nothing to cache.
      }
      const token = v.tokenAccount.equals(atas[j]!) ? decodeTokenAccount(accounts[chunk.length + j] ?? null) : null;
      out.set(address.toBase58(), {
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
        tokenAmount: token?.amount ?? null,
      });
    });
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
