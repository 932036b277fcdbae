import type { PublicKey } from "@solana/web3.js";
import { eq, sql } from "drizzle-orm";
import type { TokenAccount } from "../chain/accounts.ts";
import type { CollateralVault } from "../chain/program/index.ts";
import type { Database } from "../db/client.ts";
import { vaults } from "../db/schema.ts";
import { AppError } from "../lib/errors.ts";
import type { Services } from "../platform/services.ts";
import { backing, formatVaultAmount, tokenColumns } from "./backing.ts";
import { readVaultChainView } from "./chain-view.ts";

export type VaultRow = typeof vaults.$inferSelect;

/** Writes the chain's view of a vault into the cache unless the cache already reflects a newer slot. */
export async function upsertVaultFromChain(
  db: Database,
  p: {
    owner: string;
    vaultAddress: string;
    vault: CollateralVault;
    /** The vault's token account as read with the vault (null when missing). */
    token: TokenAccount | null;
    slot: bigint;
    /** Slot of the token account read (defaults to `slot`: same call). */
    tokenSlot?: bigint;
  },
): Promise<void> {
  const values = {
    owner: p.owner,
    vaultAddress: p.vaultAddress,
    tokenAccount: p.vault.tokenAccount.toBase58(),
    ...tokenColumns(p.token, p.tokenSlot ?? p.slot),
    totalBalance: p.vault.totalBalance,
    lockedBalance: p.vault.lockedBalance,
    availableBalance: p.vault.availableBalance,
    totalDeposited: p.vault.totalDeposited,
    totalWithdrawn: p.vault.totalWithdrawn,
    chainCreatedAt: new Date(Number(p.vault.createdAt) * 1000),
    slot: p.slot,
    updatedAt: new Date(),
  };
  const { owner: _owner, ...update } = values;
  await db
    .insert(vaults)
    .values(values)
    .onConflictDoUpdate({ target: vaults.owner, set: update, setWhere: sql`${vaults.slot} <= ${p.slot}` });
}

/**
 * The owner's balance: from the cache when it is fresh (younger than BALANCE_CHECK_INTERVAL), otherwise read from
 * the chain and written back (slot-guarded). Unknown vault → VAULT_NOT_FOUND.
 */
export async function vaultBalance(services: Services, owner: PublicKey) {
  const key = owner.toBase58();
  // One HTTP round trip; the pool is opened only when the chain's view has to be written back.
  const [cached] = await services.reads().select().from(vaults).where(eq(vaults.owner, key)).limit(1);
  const maxAgeMs = services.config.balanceCheckIntervalSec * 1000;
  // A row whose token account was never read (written before backed balances existed) is not fresh.
  const fresh = cached && cached.tokenSlot !== null && Date.now() - cached.updatedAt.getTime() <= maxAgeMs;
  if (cached && fresh && cached.status !== "closed") return balanceView(cached, "cache", services.config.usdtMint);
  const view = await readVaultChainView(services.rpc, services.config, owner).catch((err) => {
    // The chain is unreachable: a cached row, even stale, beats an error for a read.
    if (cached) return null;
    throw err;
  });
  if (!view) return balanceView(cached!, "cache", services.config.usdtMint);
  if (!view.vault) throw new AppError("VAULT_NOT_FOUND", `No vault exists for ${key}`);
  const { db } = services.db();
  await upsertVaultFromChain(db, {
    owner: key,
    vaultAddress: view.vaultAddress.toBase58(),
    vault: view.vault,
    token: view.vaultToken,
    slot: BigInt(view.slot),
    tokenSlot: BigInt(view.vaultTokenSlot),
  });
  const [row] = await db.select().from(vaults).where(eq(vaults.owner, key)).limit(1);
  return balanceView(row!, "chain", services.config.usdtMint);
}

/**
 * The design document's balance shape, plus the fields a frontend needs and the backing: `backedBalance` is what a
 * margin engine may lend against (README "Backed balances"). Amounts are formatted as USDT only when the vault's
 * token account holds USDT_MINT.
 */
export function balanceView(row: VaultRow, source: "cache" | "chain", usdtMint: PublicKey) {
  const b = backing(row, usdtMint.toBase58());
  const format = (amount: bigint) => formatVaultAmount(amount, b, row.mint);
  return {
    owner: row.owner,
    totalBalance: row.totalBalance,
    lockedBalance: row.lockedBalance,
    availableBalance: row.availableBalance,
    formattedTotal: format(row.totalBalance),
    formattedAvailable: format(row.availableBalance),
    formattedLocked: format(row.lockedBalance),
    tokenAccountBalance: b.tokenAccountBalance,
    backedBalance: b.backedBalance,
    unbackedBalance: b.unbackedBalance,
    formattedBacked: format(b.backedBalance),
    flags: b.flags,
    mint: row.mint,
    vaultAddress: row.vaultAddress,
    tokenAccount: row.tokenAccount,
    totalDeposited: row.totalDeposited,
    totalWithdrawn: row.totalWithdrawn,
    status: row.status,
    createdAt: row.chainCreatedAt?.toISOString() ?? null,
    slot: row.slot,
    tokenSlot: row.tokenSlot,
    updatedAt: row.updatedAt.toISOString(),
    source,
  };
}
